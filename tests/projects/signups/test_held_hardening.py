"""What an outside review found in the confirm step of doubted signups and around it, refused
from outside: a script that never loaded a page gets no confirm step (nothing written), held rows
go with the raw events, an over-long form token is no token, the first-touch cookie stays within
what browsers and proxies take, and a development server's email links never follow a stranger's
Host header."""

import random
import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from projects.events import worker
from projects.events.touch import FIRST_TOUCH_COOKIE, FIRST_TOUCH_MAX_BYTES
from projects.models import HeldSignup, HoldReason, Signup, Traffic
from projects.services.signups import held_signup_create
from tests.projects.conftest import send_due_emails, signup_post_data
from tests.projects.experiments.helpers import BROWSER

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limits")]


@pytest.mark.parametrize(
    "form",
    [
        {"email": "victim@example.org", "website": "spam"},  # the honeypot filled
        {"email": "victim@example.org"},  # no form token at all
    ],
    ids=["honeypot", "no-token"],
)
def test_a_script_that_never_loaded_the_page_gets_no_confirm_step_and_nothing_is_written(live_page, form):
    """Before: a 202 confirm step, whose button the same script pressed to store any address."""
    script = Client(HTTP_USER_AGENT=BROWSER)
    response = script.post(f"/p/{live_page.slug}/signup", form)
    assert response.status_code == 403
    html = response.content.decode()
    assert "Nothing was saved" in html and 'name="hold"' not in html and "Thank you" not in html
    assert not HeldSignup.objects.exists() and not Signup.objects.exists()


def test_held_rows_are_pruned_with_the_raw_events(live_page, settings):
    old = held_signup_create(page=live_page, reason=HoldReason.FAST)
    recent = held_signup_create(page=live_page, reason=HoldReason.FAST)
    HeldSignup.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(days=settings.EVENT_RETENTION_DAYS + 1)
    )
    assert worker.prune() == 1
    assert list(HeldSignup.objects.values_list("pk", flat=True)) == [recent.pk]


def test_an_over_long_form_token_is_refused_not_echoed(client, live_page):
    data = signup_post_data(client, form_token="x" * 100_000)
    response = client.post(f"/p/{live_page.slug}/signup", data)
    assert response.status_code == 400
    assert len(response.content) < 50_000 and not Signup.objects.exists() and not HeldSignup.objects.exists()


def test_the_first_touch_cookie_fits_a_browser_whatever_script_the_tags_are_in(live_page):
    """Before: 6.5 KB of Set-Cookie for CJK tags (browsers drop it; nginx's default buffer 502s)."""
    rng = random.Random(22)
    cjk = "".join(chr(rng.randrange(0x4E00, 0x9FFF)) for _ in range(200))
    tags = {name: cjk for name in ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")}
    visitor = Client(HTTP_USER_AGENT=BROWSER)
    response = visitor.get(
        f"/p/{live_page.slug}/?{urlencode({**tags, 'gclid': cjk})}", HTTP_REFERER="https://x.example/" + cjk
    )
    cookie = response.cookies[FIRST_TOUCH_COOKIE]
    assert 0 < len(cookie.OutputString()) <= FIRST_TOUCH_MAX_BYTES + 200  # the value, plus path and flags
    response = visitor.post(f"/p/{live_page.slug}/signup", signup_post_data(visitor))
    assert response.status_code == 302
    kept = Signup.objects.get().utm_campaign
    assert kept and cjk.startswith(kept)  # the visit's tag, cut, not lost


def test_in_development_a_strangers_host_header_never_reaches_the_email(client, live_page, settings):
    """DEBUG with ALLOWED_HOSTS opened wide: only this machine's own names are taken."""
    settings.DEBUG, settings.PUBLIC_BASE_URL_SET, settings.ALLOWED_HOSTS = True, False, ["*"]
    response = client.post(f"/p/{live_page.slug}/signup", signup_post_data(client), HTTP_HOST="evil.example")
    assert response.status_code == 302
    assert send_due_emails() == 1
    links = re.findall(r"https?://\S+", mail.outbox[-1].body)
    assert links and all(link.startswith(settings.PUBLIC_BASE_URL + "/") for link in links)
    assert not any("evil.example" in link for link in links)


def test_a_known_bots_signup_is_kept_but_counted_nowhere(auth_api_client, project, live_page):
    bot = Client(HTTP_USER_AGENT="python-requests/2.32")
    assert bot.post(f"/p/{live_page.slug}/signup", signup_post_data(bot, email="bot@example.com")).status_code == 302
    assert Signup.objects.get().traffic == Traffic.BOT
    pages = auth_api_client.get(f"/api/projects/{project.pk}/landing-pages").json()["results"]
    assert [p["signup_count"] for p in pages] == [0]

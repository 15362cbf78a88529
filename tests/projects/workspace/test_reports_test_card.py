"""The test card screen (issue 24, item 4): each bar explained with its default and source, edited before the
lock with errors beside the fields and nothing written on an error; read-only after the lock, with when and why,
and a post refused plainly (409, not a 500)."""

import re

import pytest
from django.core.management import call_command
from django.test import Client

from projects.analysis.thresholds import OVERRIDABLE, THRESHOLDS
from projects.models import TestCard as Card
from tests.factories import UserFactory
from tests.projects.experiments.helpers import BROWSER

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limits")]


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def url(project) -> str:
    return f"/projects/{project.pk}/test-card"


def field_error(html: str, name: str) -> str:
    """The error text rendered beside the field `name` (in its own field block)."""
    block = re.search(rf'id="id_{name}".*?</div>', html, re.S)
    assert block, name
    errors = re.search(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', block.group(0), re.S)
    return errors.group(1) if errors else ""


def test_every_bar_is_explained_with_its_default_and_source(user, project, live_page):
    html = signed_in(user).get(url(project)).content.decode()
    assert 'data-testid="not-locked"' in html and '<form method="post"' in html
    for key in OVERRIDABLE:
        assert f'id="bar-{key}"' in html, key
        assert f'name="{key}"' in html, key
        assert f'data-testid="default-{key}"' in html, key
    # The sign-up bar's default follows the card's channel; the margin's the project's business model.
    channel = Card.objects.get(project=project).channel or "direct"
    assert f"Default: <strong>{THRESHOLDS[f'signup_bar.{channel}'].value * 100:.1f}%</strong>" in html
    margin = THRESHOLDS[f"gross_margin.{project.business_model}"].value
    assert f"Default: <strong>{margin * 100:.1f}%</strong>" in html
    # The published source of a benchmark is named (and linked), the house rules say they are ours.
    assert "Unbounce Conversion Benchmark Report" in html or "LocaliQ" in html
    assert "OpenView Partners" in html
    assert "projects.analysis" not in html and "THRESHOLDS" not in html


def test_bad_values_show_beside_their_fields_and_nothing_is_written(user, project, live_page):
    client = signed_in(user)
    before = Card.objects.get(project=project)
    response = client.post(
        url(project),
        {
            "channel": "paid_social",
            "expected_cpc": "-1",
            "signup_bar": "150",
            "ltv_cac_ratio": "0.5",
            "intent_bar": "2",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Nothing was saved" in html
    assert "0.01" in field_error(html, "expected_cpc")
    assert "less than 100%" in field_error(html, "signup_bar")
    assert "at least 1" in field_error(html, "ltv_cac_ratio")
    assert field_error(html, "intent_bar") == ""  # a good value beside bad ones is kept, not flagged
    assert 'value="2"' in html  # and shown again as typed
    after = Card.objects.get(project=project)
    assert (after.channel, after.expected_cpc, after.overrides) == (
        before.channel,
        before.expected_cpc,
        before.overrides,
    )
    # Not a number at all: the same.
    response = client.post(url(project), {"signup_bar": "five"})
    assert response.status_code == 400 and field_error(response.content.decode(), "signup_bar")
    assert Card.objects.get(project=project).overrides == before.overrides


def test_a_good_edit_is_saved_and_the_report_judges_against_it(user, project, live_page, auth_api_client):
    client = signed_in(user)
    response = client.post(
        url(project), {"channel": "paid_social", "expected_cpc": "0.80", "signup_bar": "6", "ltv_periods": "12"}
    )
    assert response.status_code == 302 and response["Location"] == url(project)
    card = Card.objects.get(project=project)
    assert card.channel == "paid_social" and str(card.expected_cpc) == "0.80"
    assert card.overrides == {"signup_bar": pytest.approx(0.06), "ltv_periods": 12.0}
    api = auth_api_client.get(f"/api/projects/{project.pk}/test-card").json()
    assert api["signup_bar"] == pytest.approx(0.06) and api["sources"]["signup_bar"] == "override"
    html = client.get(url(project)).content.decode()
    assert "Test card saved" in html
    assert 'value="6.000"' in html or 'value="6"' in html  # the form shows the founder's bar again
    assert re.search(r'data-term="signup_bar">6\.0% <span class="badge neutral">yours</span>', html)
    # A blank bar goes back to its default.
    assert client.post(url(project), {"channel": "paid_social", "expected_cpc": "0.80"}).status_code == 302
    assert Card.objects.get(project=project).overrides == {}


def test_after_the_lock_the_card_is_read_only_says_when_and_why_and_refuses_a_post(user, project, live_page):
    path = f"/p/{live_page.slug}/"
    assert Client(HTTP_USER_AGENT=BROWSER).get(f"{path}?utm_source=reddit&utm_medium=social").status_code == 200
    call_command("flush_events")
    card = Card.objects.get(project=project)
    assert card.locked_at is not None and card.locked_by_channel == "social"
    client = signed_in(user)
    html = client.get(url(project)).content.decode()
    assert '<form method="post" action="/projects/' + str(project.pk) + '/test-card"' not in html
    assert 'name="signup_bar"' not in html
    locked = re.search(r'data-testid="locked">(.*?)</p>', html, re.S).group(1)
    assert f"Locked {card.locked_at:%-d %b %Y, %H:%M} UTC" in locked
    assert "first cold visitor who was a person" in locked
    assert 'data-testid="locked-by-channel">social<' in locked
    # The locked terms are shown.
    assert re.search(r'data-term="signup_bar">\d+\.\d%', html)
    response = client.post(url(project), {"signup_bar": "1"})
    assert response.status_code == 409
    assert "Nothing was changed: the test card is locked" in response.content.decode()
    assert Card.objects.get(project=project).overrides == card.overrides


def test_the_card_is_the_owners_only(project, live_page):
    assert Client().get(url(project)).status_code == 302  # to the login page
    assert Client().post(url(project), {"signup_bar": "9"}).status_code == 302
    stranger = signed_in(UserFactory())
    assert stranger.get(url(project)).status_code == 404
    assert stranger.post(url(project), {"signup_bar": "9"}).status_code == 404
    assert Card.objects.get(project=project).overrides == {}
    owner = Client(enforce_csrf_checks=True)
    owner.force_login(project.owner)
    assert owner.post(url(project), {"signup_bar": "9"}).status_code == 403  # no CSRF token
    assert signed_in(project.owner).put(url(project)).status_code == 405


def test_a_project_without_a_card_yet_shows_the_defaults_and_a_first_edit_writes_it(user, project):
    assert not Card.objects.filter(project=project).exists()
    client = signed_in(user)
    response = client.get(url(project))
    assert response.status_code == 200
    assert client.post(url(project), {"quality_bar": "70"}).status_code == 302
    assert Card.objects.get(project=project).overrides == {"quality_bar": pytest.approx(0.7)}


def test_the_test_card_screen_keeps_report_active_and_is_linked_from_the_report_and_the_hub(user, project, live_page):
    client = signed_in(user)
    html = client.get(url(project)).content.decode()
    assert re.search(r'href="/projects/\d+/report" aria-current="page">Report<', html)
    report = client.get(f"/projects/{project.pk}/report").content.decode()
    assert f'href="/projects/{project.pk}/test-card"' in report
    hub = client.get(f"/projects/{project.pk}/").content.decode()
    assert f'href="/projects/{project.pk}/test-card"' in hub


def test_the_test_card_screen_reads_a_fixed_number_of_queries(user, project, live_page, django_assert_num_queries):
    """Pinned: the same count with a day of rollups or thirty, one campaign or three."""
    from tests.projects.workspace.test_reports_kept import add_days

    client = signed_in(user)
    add_days(project, live_page, days=1, campaigns=1)
    client.get(url(project))
    with django_assert_num_queries(9):  # pinned 2026-12-06
        assert client.get(url(project)).status_code == 200
    add_days(project, live_page, days=30, campaigns=3)
    with django_assert_num_queries(9):
        assert client.get(url(project)).status_code == 200


def test_a_cost_per_click_the_founder_did_not_promise_is_said_to_be_the_observed_one(user, project, live_page):
    from tests.projects.workspace.test_reports_kept import add_days

    add_days(project, live_page, days=2, campaigns=1)  # 7.50 a day for 30 clicks: 0.25 per click
    client = signed_in(user)
    term = re.search(r'data-term="expected_cpc">(.*?)</dd>', client.get(url(project)).content.decode()).group(1)
    assert "0.25 USD" in term and "what your ads cost so far" in term
    assert client.post(url(project), {"expected_cpc": "0.40"}).status_code == 302
    term = re.search(r'data-term="expected_cpc">(.*?)</dd>', client.get(url(project)).content.decode()).group(1)
    assert term == "0.40 USD"

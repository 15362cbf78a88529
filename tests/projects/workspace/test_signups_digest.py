"""The daily signup digest in the workspace: it links to each project's signup list and says how
to turn it off; a founder who turned it off gets nothing."""

from datetime import UTC, datetime

import pytest
from django.core import mail
from django.urls import NoReverseMatch, reverse

from projects.models import Signup
from projects.services.digests import signup_digests_send
from tests.factories import ProjectFactory, UserFactory, generate_and_publish

pytestmark = pytest.mark.django_db

DAY = "2031-03-03"
AT = datetime(2031, 3, 3, 15, 0, tzinfo=UTC)
BASE = "https://mvp.example.com"


@pytest.fixture(autouse=True)
def public_base_url(settings):
    settings.PUBLIC_BASE_URL = BASE


def signed_up(owner, name="Invoice chaser", n=2):
    page = generate_and_publish(ProjectFactory(owner=owner, name=name), slug=name.split()[0].lower())
    for i in range(n):
        row = Signup.objects.create(landing_page=page, project=page.project, email=f"{page.slug}{i}@example.com")
        Signup.objects.filter(pk=row.pk).update(created_at=AT)
    return page.project


def settings_url() -> str:
    try:
        return reverse("account-settings")
    except NoReverseMatch:  # the accounts pages are not installed: the path they take
        return "/accounts/"


def test_the_digest_links_to_the_signup_list_and_to_turning_it_off():
    owner = UserFactory(name="Alice")
    project = signed_up(owner)
    assert signup_digests_send(day=DAY).sent == 1
    [message] = mail.outbox
    list_url = f"{BASE}/projects/{project.pk}/signups/"
    off_url = f"{BASE}{settings_url()}"
    assert list_url in message.body and f"{BASE}/projects/{project.pk}/report" in message.body
    assert f"turn off the daily digest in your account settings: {off_url}" in message.body
    html, _ = message.alternatives[0]
    assert f'<a href="{list_url}">Invoice chaser</a>: 2 signups' in html
    assert f'<a href="{off_url}">turn off the daily digest in your account settings</a>' in html


def test_a_founder_who_turned_the_digest_off_gets_nothing():
    quiet = UserFactory(signup_digest=False)
    keen = UserFactory()
    signed_up(quiet, "Quiet idea")
    signed_up(keen, "Keen idea")
    result = signup_digests_send(day=DAY)
    assert result.sent == 1 and [m.to for m in mail.outbox] == [[keen.email]]

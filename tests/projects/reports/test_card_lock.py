"""The test card locks at the first cold visitor who is a person and not the founder, and a locked
card never changes (issue 22, item 6). Through the public page, the event worker and the API."""

import pytest
from django.core.management import call_command
from django.test import Client

from projects.events import cookies
from projects.models import Event, EventKind
from security.hashing import hash_identifier
from tests.factories import UserFactory
from tests.projects.experiments.helpers import BROWSER

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limits")]


def browser(**extra) -> Client:
    return Client(HTTP_USER_AGENT=BROWSER, **extra)


def card_of(api, project) -> dict:
    response = api.get(f"/api/projects/{project.pk}/test-card")
    assert response.status_code == 200, response.content
    return response.json()


def test_the_founders_own_looks_bots_and_warm_visitors_lock_nothing(user, auth_api_client, project, live_page):
    path = f"/p/{live_page.slug}/"
    # The founder opens the page through the preview link, then again as the signed-in owner
    # (the issue: this first look locked the card 15 s after publishing); a staff member looks
    # too; a link preview and a screenshot tool fetch it; a friend comes from the founder's list.
    previewer = browser()
    assert previewer.get(f"{path}?preview={cookies.preview_token(live_page.pk)}").status_code == 302
    assert previewer.get(path).status_code == 200
    owner = browser()
    owner.force_login(user)
    assert owner.get(path).status_code == 200
    staff = browser()
    staff.force_login(UserFactory(is_staff=True))
    assert staff.get(path).status_code == 200
    Client(HTTP_USER_AGENT="Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)").get(path)
    Client(HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/131.0").get(path)
    browser().get(f"{path}?utm_source=newsletter&utm_medium=email")
    call_command("flush_events")
    assert Event.objects.filter(kind=EventKind.VIEW).count() == 6
    card = card_of(auth_api_client, project)
    assert card["locked_at"] is None and card["locked_by"] is None
    # Still the founder's to change.
    changed = auth_api_client.patch(f"/api/projects/{project.pk}/test-card", {"expected_cpc": "1.20"}, format="json")
    assert changed.status_code == 200 and changed.json()["expected_cpc"] == "1.20"

    # The first cold person locks it, and the card says when and by which visit.
    stranger = browser()
    assert stranger.get(f"{path}?utm_source=reddit&utm_medium=social").status_code == 200
    call_command("flush_events")
    view = Event.objects.get(kind=EventKind.VIEW, channel="social")
    card = card_of(auth_api_client, project)
    assert card["locked_at"] is not None
    assert card["locked_by"] == {"event": view.key, "visitor": view.visitor_hash, "channel": "social"}
    cookie_id = stranger.cookies[cookies.VISITOR_COOKIE].value.partition(".")[0]
    assert view.visitor_hash == hash_identifier(cookie_id) != cookie_id  # the HMAC, not the cookie
    report = auth_api_client.get(f"/api/projects/{project.pk}/report").json()
    assert report["test_card"]["locked_at"] == card["locked_at"]
    assert report["test_card"]["locked_by"] == card["locked_by"]
    refused = auth_api_client.patch(f"/api/projects/{project.pk}/test-card", {"expected_cpc": "2.00"}, format="json")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "test_card_locked"


def test_the_first_cold_person_among_several_in_one_batch_locks_it(auth_api_client, project, live_page):
    path = f"/p/{live_page.slug}/"
    first, second = browser(), browser()
    first.get(path)  # direct
    second.get(f"{path}?utm_source=google&utm_medium=cpc")
    call_command("flush_events")
    first_view = Event.objects.filter(kind=EventKind.VIEW).order_by("occurred_at", "id").first()
    card = card_of(auth_api_client, project)
    assert card["locked_by"]["event"] == first_view.key and card["locked_by"]["channel"] == "direct"
    assert card["locked_at"].startswith(first_view.occurred_at.date().isoformat())


def test_a_locked_card_never_changes_whatever_comes_later(auth_api_client, project, live_page):
    path = f"/p/{live_page.slug}/"
    browser().get(path)  # the first cold person: direct
    call_command("flush_events")
    locked = card_of(auth_api_client, project)
    assert locked["channel"] == "direct" and locked["locked_at"] is not None

    # Later: a Meta campaign brings most of the traffic (the report would now call the main channel
    # paid social), and the founder edits the project's price and business model.
    created = auth_api_client.post(
        f"/api/projects/{project.pk}/campaigns",
        {"name": "Feed ads", "platform": "meta", "budget": "200.00", "utm_campaign": "feed"},
        format="json",
    )
    assert created.status_code == 201, created.content
    for _ in range(5):
        browser().get(f"{path}?utm_source=facebook&utm_medium=cpc&utm_campaign=feed")
    call_command("flush_events")
    edited = auth_api_client.patch(
        f"/api/projects/{project.pk}/", {"price_point": "99.00", "business_model": "course"}, format="json"
    )
    assert edited.status_code == 200, edited.content

    after = card_of(auth_api_client, project)
    for field in ("channel", "hypothesis", "criteria", "price", "business_model", "signup_bar", "ltv",
                  "allowable_cost_per_lead", "locked_at", "locked_by"):  # fmt: skip
        assert after[field] == locked[field], field
    report = auth_api_client.get(f"/api/projects/{project.pk}/report").json()
    assert report["test_card"]["channel"] == "direct" and report["test_card"]["price"] == "29.00"

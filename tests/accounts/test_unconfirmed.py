"""An account signed up in the browser and not confirmed yet: no API tokens (told only once the
password is right) and no daily digest (its address may be someone else's)."""

from datetime import UTC, datetime

import pytest
from django.core import mail

from projects.models import Signup
from projects.models.events import Traffic
from projects.services.digests import signup_digests_send
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def obtain(api_client, email, password):
    return api_client.post("/api/auth/token", {"email": email, "password": password}, format="json")


def test_an_unconfirmed_account_gets_no_token_in_the_apis_error_shape(api_client):
    user = UserFactory(email_confirmed=False)
    response = obtain(api_client, user.email, DEFAULT_PASSWORD)
    assert response.status_code == 401
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == "email_unconfirmed"
    assert "Confirm your email address" in body["error"]["message"]
    assert "access" not in response.content.decode() and "refresh" not in response.content.decode()


def test_a_wrong_password_reads_the_same_for_unconfirmed_confirmed_and_unknown_accounts(api_client):
    unconfirmed, confirmed = UserFactory(email_confirmed=False), UserFactory()
    answers = [obtain(api_client, e, "wrong-password-1") for e in (unconfirmed.email, confirmed.email, "x@example.com")]
    assert {r.status_code for r in answers} == {401}
    assert len({r.content for r in answers}) == 1
    assert answers[0].json()["error"]["code"] == "no_active_account"


def test_once_confirmed_the_account_gets_its_tokens(api_client):
    user = UserFactory(email_confirmed=False)
    user.email_confirmed = True
    user.save(update_fields=["email_confirmed"])
    response = obtain(api_client, user.email, DEFAULT_PASSWORD)
    assert response.status_code == 200 and {"access", "refresh"} <= set(response.json())


def _published(owner, slug):
    from projects.services.pages import landing_page_create, landing_page_publish
    from projects.services.prototypes import prototype_generate
    from tests.factories import ProjectFactory

    project = ProjectFactory(owner=owner, name=f"Idea {slug}")
    prototype_generate(project=project)
    return landing_page_publish(page=landing_page_create(project=project, slug=slug))


def test_the_daily_digest_goes_only_to_confirmed_addresses():
    confirmed, unconfirmed = UserFactory(), UserFactory(email_confirmed=False)
    at = datetime(2031, 3, 3, 15, 0, tzinfo=UTC)
    for owner, slug in ((confirmed, "one"), (unconfirmed, "two")):
        page = _published(owner, slug)
        row = Signup.objects.create(
            landing_page=page, project=page.project, email=f"v-{slug}@example.com",
            consent=True, consent_at=at, traffic=Traffic.HUMAN,
        )  # fmt: skip
        Signup.objects.filter(pk=row.pk).update(created_at=at)
    assert signup_digests_send(day="2031-03-03").sent == 1
    assert [m.to for m in mail.outbox] == [[confirmed.email]]

"""Deleting the account: the password and the typed address, then everything goes."""

import pytest
from django.test import Client

from projects.models import LandingPage, Project, Signup
from security.models import User
from tests.factories import DEFAULT_PASSWORD, ProjectFactory, UserFactory, generate_and_publish

pytestmark = pytest.mark.django_db


@pytest.fixture
def owned(user):
    project = ProjectFactory(owner=user)
    page = generate_and_publish(project, slug="mine")
    Signup.objects.create(landing_page=page, project=project, email="v@example.com")
    keep = ProjectFactory(owner=UserFactory())
    Signup.objects.create(landing_page=generate_and_publish(keep, slug="theirs"), project=keep, email="w@example.com")
    return project


def test_the_page_offers_the_export_first(client, user):
    client.force_login(user)
    content = client.get("/accounts/delete/").content
    assert content.index(b"?format=json") < content.index(b'name="password"')


def test_deleting_removes_the_account_its_projects_pages_and_signups(client, user, owned):
    client.force_login(user)
    other_session = Client()
    other_session.force_login(user)
    response = client.post("/accounts/delete/", {"password": DEFAULT_PASSWORD, "confirm_email": user.email.upper()})
    assert response.status_code == 302 and response["Location"] == "/"
    assert not User.objects.filter(pk=user.pk).exists()
    assert not Project.objects.filter(pk=owned.pk).exists()
    assert not LandingPage.objects.filter(slug="mine").exists()
    assert list(Signup.objects.values_list("email", flat=True)) == ["w@example.com"]
    assert "_auth_user_id" not in client.session
    assert other_session.get("/accounts/").status_code == 302
    assert b"Your account and all its data are deleted." in client.get("/accounts/login/").content


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"password": "wrong-password", "confirm_email": None}, "password", b"Your password was entered incorrectly."),
        ({"password": DEFAULT_PASSWORD, "confirm_email": "someone@else.com"}, "confirm_email", b"Type your account"),
        ({"password": "", "confirm_email": None}, "password", b"This field is required."),
        ({"password": DEFAULT_PASSWORD, "confirm_email": ""}, "confirm_email", b"This field is required."),
    ],
)
def test_a_bad_confirmation_deletes_nothing(client, user, owned, data, field, message):
    client.force_login(user)
    data = {**data, "confirm_email": user.email if data["confirm_email"] is None else data["confirm_email"]}
    response = client.post("/accounts/delete/", data)
    assert response.status_code == 200 and message in response.content
    assert f'id="id_{field}_error"'.encode() in response.content
    assert User.objects.filter(pk=user.pk).exists() and Signup.objects.count() == 2


def test_delete_is_rate_limited(client, user, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login_form": "2/m"}
    client.force_login(user)
    for _ in range(2):
        client.post("/accounts/delete/", {"password": "x", "confirm_email": "y"})
    assert client.post("/accounts/delete/", {"password": "x", "confirm_email": "y"}).status_code == 429

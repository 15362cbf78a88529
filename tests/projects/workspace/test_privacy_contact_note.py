"""With no contact email in the project, the public privacy notice names the founder's sign-in
address: the page editor's publishing panel and the project form say so plainly, with the way to
show another address."""

import re

import pytest
from django.urls import reverse

from tests.factories import ProjectFactory, generate_and_publish

pytestmark = pytest.mark.django_db

NOTE = re.compile(
    r"Your privacy notice lists <strong>(?P<email>[^<]+)</strong> as the contact: "
    r'<a href="(?P<href>[^"]*)">set a contact email in the project</a> to show another address\.'
)


@pytest.fixture
def owner(client, user):
    client.force_login(user)
    return client


def note(response):
    assert response.status_code == 200
    return NOTE.search(response.content.decode())


@pytest.mark.parametrize("status", ["draft", "published"])
def test_the_publishing_panel_says_which_address_the_notice_shows(owner, user, status):
    project = ProjectFactory(owner=user, contact_email="")
    page = generate_and_publish(project, slug="chaser")
    if status == "draft":
        page.status = "draft"
        page.save(update_fields=["status"])
    found = note(owner.get(reverse("page-edit", args=[project.pk, page.pk])))
    assert found and found["email"] == user.email
    assert found["href"] == reverse("project-edit", args=[project.pk]) + "#id_contact_email"
    # As the public notice itself says.
    assert user.email in owner.get("/p/chaser/privacy").content.decode() or status == "draft"


def test_with_a_contact_email_the_panel_says_nothing(owner, user):
    project = ProjectFactory(owner=user, contact_email="hello@startup.example")
    page = generate_and_publish(project, slug="chaser")
    assert note(owner.get(reverse("page-edit", args=[project.pk, page.pk]))) is None


def test_the_project_form_says_it_beside_the_contact_fields(owner, user):
    project = ProjectFactory(owner=user, contact_email="")
    found = note(owner.get(reverse("project-edit", args=[project.pk])))
    assert found and found["email"] == user.email
    assert found["href"] == reverse("project-edit", args=[project.pk]) + "#id_contact_email"
    project.contact_email = "hello@startup.example"
    project.save(update_fields=["contact_email"])
    assert note(owner.get(reverse("project-edit", args=[project.pk]))) is None


def test_a_new_project_form_says_it_too(owner, user):
    found = note(owner.get(reverse("project-create")))
    assert found and found["email"] == user.email and found["href"] == "#id_contact_email"

"""The founder's prototype pages over HTTP with the built-in generator: the versions, generating
and regenerating, comparing, choosing the current one, and who may see them."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from projects.models import Project, Prototype
from projects.services.pages import landing_page_create
from projects.services.prototypes import prototype_generate
from tests.factories import ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def founder(user):
    client = Client()
    client.force_login(user)
    return client


def list_url(project):
    return reverse("prototype-list", args=[project.pk])


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- The list ---------------------------------------------------------------------------------


def test_a_project_without_copy_shows_the_first_step(founder, project):
    response = founder.get(list_url(project))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Generate your first copy" in html
    assert reverse("prototype-generate", args=[project.pk]) in html
    assert "Earlier versions" not in html


def test_the_current_version_is_shown_in_full_and_earlier_ones_listed(founder, project):
    first = prototype_generate(project=project)
    second = prototype_generate(project=project)
    response = founder.get(list_url(project))
    html = response.content.decode()
    assert response.context["current"] == second
    assert second.headline in html and second.call_to_action in html
    for feature in second.features:
        assert feature in html
    for tier in second.pricing_tiers:
        assert tier["name"] in html
    assert "Written by the built-in generator" in html
    assert [p.version for p, _ in response.context["earlier"]] == [1]
    assert f"?a={first.version}&amp;b={second.version}" in html
    assert reverse("prototype-pick", args=[project.pk, first.version]) in html
    assert "Generate your first copy" not in html


def test_a_model_version_and_a_fallback_say_who_wrote_them(founder, project):
    prototype_generate(project=project)
    Prototype.objects.filter(project=project).update(generator="openai:gpt-test-mini")
    assert "Written by gpt-test-mini" in founder.get(list_url(project)).content.decode()
    Prototype.objects.filter(project=project).update(generator="builtin", fallback_reason="openai: timed out")
    html = founder.get(list_url(project)).content.decode()
    assert "The model was unavailable (openai: timed out), so the built-in generator wrote this" in html
    assert "Written by gpt-test-mini" not in html


def test_the_list_runs_a_fixed_number_of_queries_however_many_versions(founder, project, django_assert_num_queries):
    prototype_generate(project=project)
    founder.get(list_url(project))  # warm the session and caches
    # Session, user, project, the versions (one query for all).
    with django_assert_num_queries(4):
        assert founder.get(list_url(project)).status_code == 200
    for _ in range(5):
        prototype_generate(project=project)
    with django_assert_num_queries(4):
        response = founder.get(list_url(project))
    assert len(response.context["earlier"]) == 5


# --- Generating -------------------------------------------------------------------------------


def test_generate_writes_a_version_at_once_and_says_so(founder, project):
    response = founder.post(reverse("prototype-generate", args=[project.pk]), follow=True)
    assert response.redirect_chain == [(list_url(project), 302)]
    prototype = Prototype.objects.get(project=project)
    assert prototype.version == 1 and prototype.is_current and prototype.generator == "builtin"
    assert messages_of(response) == ["Version 1 is ready and is now the current copy."]
    assert prototype.headline in response.content.decode()
    project.refresh_from_db()
    assert project.status == "prototype_ready"


def test_regenerating_takes_another_angle_and_keeps_the_history(founder, project):
    for _ in range(3):
        founder.post(reverse("prototype-generate", args=[project.pk]))
    versions = list(Prototype.objects.filter(project=project).order_by("version"))
    assert [(p.version, p.is_current) for p in versions] == [(1, False), (2, False), (3, True)]
    # Each version another angle: not the same copy three times.
    assert len({(p.headline, p.subheadline, p.call_to_action) for p in versions}) == 3


def test_generate_needs_a_post(founder, project):
    assert founder.get(reverse("prototype-generate", args=[project.pk])).status_code == 405
    assert not Prototype.objects.exists()


@pytest.mark.parametrize("state", ["archived", "completed"])
def test_generate_for_a_closed_project_is_a_message_and_writes_nothing(founder, project, state):
    Project.objects.filter(pk=project.pk).update(
        status=state, completed_at=project.created_at if state == "completed" else None
    )
    response = founder.post(reverse("prototype-generate", args=[project.pk]), follow=True)
    assert response.status_code == 200
    (message,) = messages_of(response)
    assert state in message
    assert not Prototype.objects.exists()


def test_the_generation_throttle_is_a_message_and_shares_the_api_quota(founder, auth_api_client, project, settings):
    settings.API_THROTTLES = {**settings.API_THROTTLES, "generate_prototype": {"rate": "2/min", "key": "user"}}
    assert auth_api_client.post(f"/api/projects/{project.pk}/generate-prototype").status_code == 201
    assert founder.post(reverse("prototype-generate", args=[project.pk]), follow=True).status_code == 200
    response = founder.post(reverse("prototype-generate", args=[project.pk]), follow=True)
    assert response.status_code == 200
    (message,) = messages_of(response)
    assert message.startswith("You have generated a lot of copy lately. Try again in ")
    assert Prototype.objects.count() == 2


# --- Choosing the current version -------------------------------------------------------------


def test_pick_makes_an_earlier_version_current_and_keeps_one_current(founder, project):
    prototype_generate(project=project)
    prototype_generate(project=project)
    response = founder.post(reverse("prototype-pick", args=[project.pk, 1]), follow=True)
    assert response.redirect_chain == [(list_url(project), 302)]
    assert list(Prototype.objects.filter(project=project, is_current=True).values_list("version", flat=True)) == [1]
    (message,) = messages_of(response)
    assert message == "Version 1 is now the current copy. New pages start from it."
    assert response.context["current"].version == 1


def test_pick_tells_the_founder_an_existing_page_keeps_its_copy(founder, project):
    prototype_generate(project=project)
    page = landing_page_create(project=project, slug="first")
    prototype_generate(project=project)
    response = founder.post(reverse("prototype-pick", args=[project.pk, 2]), follow=True)
    (message,) = messages_of(response)
    assert "Your existing pages keep their own copy" in message
    page.refresh_from_db()
    assert page.headline == Prototype.objects.get(project=project, version=1).headline


def test_pick_of_a_missing_version_is_404(founder, project):
    prototype_generate(project=project)
    assert founder.post(reverse("prototype-pick", args=[project.pk, 9])).status_code == 404
    assert Prototype.objects.get().is_current


def test_pick_in_an_archived_project_is_a_message_and_changes_nothing(founder, project):
    prototype_generate(project=project)
    prototype_generate(project=project)
    Project.objects.filter(pk=project.pk).update(status="archived")
    response = founder.post(reverse("prototype-pick", args=[project.pk, 1]), follow=True)
    (message,) = messages_of(response)
    assert "archived" in message
    assert Prototype.objects.get(is_current=True).version == 2


# --- Comparing --------------------------------------------------------------------------------


def test_compare_shows_two_versions_side_by_side_with_the_differences_marked(founder, project):
    prototype_generate(project=project)
    prototype_generate(project=project)
    Prototype.objects.filter(project=project, version=2).update(headline="A calmer inbox for busy teams")
    Prototype.objects.filter(project=project, version=1).update(headline="A faster inbox for busy teams")
    response = founder.get(reverse("prototype-compare", args=[project.pk]), {"a": 1, "b": 2})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<del>faster</del>" in html and "<ins>calmer</ins>" in html
    headline = response.context["rows"][0]
    assert headline.label == "Headline" and headline.changed
    assert [s.text for s in headline.a] == ["A", "faster", "inbox for busy teams"]


def test_compare_without_a_choice_puts_the_previous_version_beside_the_current_one(founder, project):
    for _ in range(3):
        prototype_generate(project=project)
    response = founder.get(reverse("prototype-compare", args=[project.pk]))
    assert (response.context["left"].version, response.context["right"].version) == (2, 3)


def test_compare_of_a_version_that_does_not_exist_says_so_beside_the_field(founder, project):
    prototype_generate(project=project)
    prototype_generate(project=project)
    response = founder.get(reverse("prototype-compare", args=[project.pk]), {"a": 1, "b": 7})
    assert response.status_code == 200
    assert response.context["rows"] is None
    assert "b" in response.context["form"].errors
    assert re.search(r'id="id_b_errors"', response.content.decode())


def test_compare_with_one_version_sends_back_to_the_list(founder, project):
    prototype_generate(project=project)
    response = founder.get(reverse("prototype-compare", args=[project.pk]), follow=True)
    assert response.redirect_chain == [(list_url(project), 302)]
    assert "only one version" in messages_of(response)[0]


# --- Who may see it ---------------------------------------------------------------------------


def test_another_founders_project_is_404_on_every_prototype_page(founder, db):
    other = ProjectFactory(owner=UserFactory())
    prototype_generate(project=other)
    prototype_generate(project=other)
    pk = other.pk
    for method, url in [
        ("get", reverse("prototype-list", args=[pk])),
        ("post", reverse("prototype-generate", args=[pk])),
        ("get", reverse("prototype-compare", args=[pk]) + "?a=1&b=2"),
        ("post", reverse("prototype-pick", args=[pk, 1])),
        ("get", reverse("prototype-edit", args=[pk, 1])),
        ("post", reverse("prototype-edit", args=[pk, 1])),
    ]:
        assert getattr(founder, method)(url).status_code == 404, url
    assert Prototype.objects.filter(project=other).count() == 2
    assert Prototype.objects.get(project=other, is_current=True).version == 2


def test_anonymous_visitors_are_sent_to_sign_in(project):
    response = Client().get(list_url(project))
    assert response.status_code == 302 and "login" in response["Location"]
    response = Client().post(reverse("prototype-generate", args=[project.pk]))
    assert response.status_code == 302 and not Prototype.objects.exists()

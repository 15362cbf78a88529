"""The admin pages of the experiment models: read only, moves through the service."""

import pytest
from django.test import Client

from projects.models import (
    DailyRollup,
    Experiment,
    ExperimentExposure,
    ExperimentStatus,
    Traffic,
)
from tests.factories import UserFactory
from tests.projects.experiments.helpers import add_rollup, browser, expose, shown, started, variant_list, visitor_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limits")]


@pytest.fixture
def admin_data(auth_api_client, project, live_page):
    experiment = started(
        auth_api_client, project, live_page, variants=variant_list("control", "b", b={"headline": "Variant B"})
    )
    expose(experiment, "control", 3)
    add_rollup(experiment, "b", Traffic.BOT, 4)
    return experiment


@pytest.mark.parametrize(
    "url",
    [
        "/admin/projects/experiment/",
        "/admin/projects/experiment/?status__exact=running",
        "/admin/projects/dailyrollup/",
        "/admin/projects/dailyrollup/?traffic__exact=bot",
        "/admin/projects/experimentexposure/",
    ],
)
def test_admin_changelists_render_for_a_superuser(admin_data, superuser_client, url):
    response = superuser_client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    if "/experiment/" in url:
        assert "Headline test" in html and "chaser" in html and "Running" in html
    if "traffic__exact=bot" in url:
        assert "1 daily rollup" in html


@pytest.fixture
def superuser_client():
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_admin_experiment_page_shows_its_variants_read_only(admin_data, superuser_client):
    response = superuser_client.get(f"/admin/projects/experiment/{admin_data.pk}/change/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Variants" in html and 'name="variants-TOTAL_FORMS" value="2"' in html
    assert 'name="variants-0-weight"' not in html  # frozen: shown, not editable
    assert 'name="coverage"' not in html and 'name="name"' not in html


def test_admin_cannot_add_or_delete_experiments(admin_data, superuser_client):
    assert superuser_client.get("/admin/projects/experiment/add/").status_code == 403
    response = superuser_client.post(f"/admin/projects/experiment/{admin_data.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert Experiment.objects.filter(pk=admin_data.pk).exists()


def test_admin_pause_action_goes_through_the_service(admin_data, superuser_client):
    in_b = browser(visitor_in(admin_data, 1))
    assert shown(in_b.get("/p/chaser/"))["headline"] == "Variant B"  # and the render is cached
    response = superuser_client.post(
        "/admin/projects/experiment/",
        {"action": "pause_experiments", "_selected_action": [admin_data.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "1 experiment(s) now paused." in response.content.decode()
    admin_data.refresh_from_db()
    assert admin_data.status == ExperimentStatus.PAUSED and admin_data.paused_at is not None
    assert shown(in_b.get("/p/chaser/"))["headline"] == admin_data.page.headline
    # A move the state does not allow is reported, not made.
    response = superuser_client.post(
        "/admin/projects/experiment/",
        {"action": "pause_experiments", "_selected_action": [admin_data.pk]},
        follow=True,
    )
    assert "cannot be paused" in response.content.decode()
    assert "0 experiment(s) now paused." in response.content.decode()


def test_admin_rollups_and_exposures_are_read_only(admin_data, superuser_client):
    assert superuser_client.get("/admin/projects/dailyrollup/add/").status_code == 403
    assert superuser_client.get("/admin/projects/experimentexposure/add/").status_code == 403
    rollup = DailyRollup.objects.get()
    assert superuser_client.get(f"/admin/projects/dailyrollup/{rollup.pk}/change/").status_code == 200  # view only
    response = superuser_client.post(f"/admin/projects/dailyrollup/{rollup.pk}/change/", {"views": 999})
    assert response.status_code == 403
    assert DailyRollup.objects.get().views == 4
    exposure = ExperimentExposure.objects.first()
    response = superuser_client.post(f"/admin/projects/experimentexposure/{exposure.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert ExperimentExposure.objects.count() == 3


@pytest.mark.parametrize(
    "url", ["/admin/projects/experiment/", "/admin/projects/dailyrollup/", "/admin/projects/experimentexposure/"]
)
def test_admin_changelists_redirect_a_non_staff_user_to_login(admin_data, url):
    client = Client()
    client.force_login(UserFactory())
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")

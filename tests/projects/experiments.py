"""Helpers for the experiment tests: a running experiment on a live page, through the API."""

from projects.models import Experiment, LandingPage
from projects.services.pages import landing_page_create, landing_page_publish
from projects.services.prototypes import prototype_generate

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"


def make_running_experiment(api, project, *, weights=(50, 50), slug="chaser") -> tuple[LandingPage, Experiment]:
    prototype_generate(project=project)
    page = landing_page_publish(page=landing_page_create(project=project, slug=slug))
    variants = [{"key": "control", "weight": weights[0]}]
    for i, weight in enumerate(weights[1:], start=1):
        headline = "Stop chasing invoices by hand" if i == 1 else f"Headline {i}"
        variants.append({"key": "b" if i == 1 else f"v{i}", "weight": weight, "headline": headline})
    response = api.post(
        f"/api/projects/{project.pk}/experiments",
        {"landing_page_id": page.pk, "name": "Headline test", "variants": variants},
        format="json",
    )
    assert response.status_code == 201, response.content
    experiment_id = response.json()["id"]
    assert api.post(f"/api/experiments/{experiment_id}/start").status_code == 200
    return page, Experiment.objects.get(pk=experiment_id)

"""Helpers for the experiment tests: a running experiment on a live page, through the API;
visitors chosen by their cookie id, so which variant each one sees is known; exposures and
rollups written directly; the reference analysis the results endpoint should match."""

import re
from datetime import timedelta
from decimal import Decimal

from django.test import Client
from django.utils import timezone

from projects.analysis.assignment import assign
from projects.analysis.experiments import Arm, analyse
from projects.events import cookies
from projects.models import (
    DailyRollup,
    Experiment,
    ExperimentExposure,
    LandingPage,
    Variant,
)
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


# --- Through the API and the public page, with visitors chosen by their cookie id ---------


def variant_list(*keys, **extra):
    return [{"key": key, **extra.get(key, {})} for key in keys]


def create(api, project, page, **body):
    payload = {"landing_page_id": page.pk, "name": "Headline test", "variants": variant_list("control", "b")}
    payload.update(body)
    return api.post(f"/api/projects/{project.pk}/experiments", payload, format="json")


def created(api, project, page, **body) -> dict:
    response = create(api, project, page, **body)
    assert response.status_code == 201, response.content
    return response.json()


def visitor_in(experiment: Experiment, index: int | None, *, start: int = 0) -> str:
    """A cookie id that `projects.analysis.assignment.assign` puts in variant `index` (None: outside the coverage)."""
    weights = [v.weight for v in experiment.variants.all()]
    for i in range(start, start + 100_000):
        vid = f"visitor-{i:012d}"
        if assign(vid, seed=experiment.seed, coverage=float(experiment.coverage), weights=weights) == index:
            return vid
    raise AssertionError(f"no visitor for variant {index}")


def browser(vid: str | None = None, *, ua: str = BROWSER) -> Client:
    client = Client(HTTP_USER_AGENT=ua)
    if vid is not None:
        client.cookies[cookies.VISITOR_COOKIE] = cookies.signed_visitor_id(vid)
    return client


def shown(response) -> dict:
    """What the visitor saw: the copy the variants may override."""
    assert response.status_code == 200, response.content
    html = response.content.decode()
    sub = re.search(r'<p class="sub">(.*?)</p>', html, re.S)
    # Shown as a price tag ("$19", "$12.50"), read back as the stored decimal ("19.00").
    price = re.search(r"Buy now for \$([\d,.]+)<", html)
    return {
        "headline": re.search(r"<h1>(.*?)</h1>", html, re.S).group(1).strip(),
        "subheadline": sub.group(1).strip() if sub else "",
        "cta_text": re.search(r'<a class="button" href="#signup" data-track="cta">(.*?)</a>', html, re.S)
        .group(1)
        .strip(),
        "preorder_price": f"{Decimal(price.group(1).replace(',', '')):.2f}" if price else None,
    }


def counts() -> tuple[int, int]:
    return Experiment.objects.count(), Variant.objects.count()


def move(api, experiment_id: int, action: str):
    return api.post(f"/api/experiments/{experiment_id}/{action}")


def expose(experiment: Experiment, variant: str, n: int, *, signed_up: int = 0, unconfirmed: int = 0, **flags):
    """`n` confirmed people in `variant`, `signed_up` of them signed up; and `unconfirmed` who did not."""
    start = ExperimentExposure.objects.count()
    now = timezone.now()
    ExperimentExposure.objects.bulk_create(
        [
            ExperimentExposure(
                experiment=experiment, variant=variant, visitor_hash=f"h{start + i}", first_seen=now,
                confirmed=i < n, signed_up=i < signed_up,
                clicked=i < flags.get("clicked", 0), preordered=i < flags.get("preordered", 0),
            )
            for i in range(n + unconfirmed)
        ]
    )  # fmt: skip


def started(auth_api_client, project, page, *, days_ago: float = 0, **body) -> Experiment:
    experiment_id = created(auth_api_client, project, page, **body)["id"]
    assert move(auth_api_client, experiment_id, "start").status_code == 200
    if days_ago:
        Experiment.objects.filter(pk=experiment_id).update(started_at=timezone.now() - timedelta(days=days_ago))
    return Experiment.objects.get(pk=experiment_id)


def reference(experiment: Experiment, arms: list[tuple[str, int, int]], days: float) -> dict:
    """`analyse` (projects.analysis.experiments) on (key, visitors, conversions) per arm, as the endpoint calls it."""
    variants = {v.key: v for v in experiment.variants.all()}
    total = sum(n for _, n, _ in arms)
    return analyse(
        [Arm(key, float(variants[key].weight), n, c, variants[key].is_control) for key, n, c in arms],
        days_running=days,
        visitors_per_day=total / days if days >= 1 else None,
        mde_relative=float(experiment.minimum_detectable_effect),
    ).to_dict()


def add_rollup(experiment, variant, traffic, views, day_offset=0):
    DailyRollup.objects.create(
        page=experiment.page, day=timezone.now().date() - timedelta(days=day_offset), experiment=experiment,
        variant=variant, channel="direct", traffic=traffic, views=views, visitors=views,
    )  # fmt: skip

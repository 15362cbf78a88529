"""What the public page shows while an experiment runs: each visitor their variant, sticky, in the
shares the weights and the coverage ask for. Visitors are chosen by their cookie id, so which
variant each one sees is known."""

import math

import pytest
from django.core.management import call_command

from projects.analysis.assignment import assign
from projects.models import (
    Event,
    Experiment,
    ExperimentExposure,
)
from projects.services.pages import landing_page_create, landing_page_publish
from projects.services.prototypes import prototype_generate
from tests.projects.experiments.helpers import (
    browser,
    created,
    expose,
    move,
    reference,
    shown,
    variant_list,
    visitor_in,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limits")]


@pytest.fixture
def preorder_page(project):
    prototype_generate(project=project)
    page = landing_page_create(project=project, slug="buy", cta_kind="preorder", preorder_price="49.00")
    return landing_page_publish(page=page)


def test_visitors_see_their_variant_sticky_and_the_base_page_after_pause_and_complete(
    auth_api_client, project, preorder_page
):
    body = created(
        auth_api_client,
        project,
        preorder_page,
        variants=[
            {"key": "control"},
            {"key": "b", "headline": "Variant headline", "subheadline": "Variant sub", "cta_text": "Variant CTA",
             "preorder_price": "19.00"},
        ],
    )  # fmt: skip
    experiment = Experiment.objects.get(pk=body["id"])
    base = {
        "headline": preorder_page.headline,
        "subheadline": preorder_page.subheadline,
        "cta_text": preorder_page.cta_text,
        "preorder_price": "49.00",
    }
    variant_b = {"headline": "Variant headline", "subheadline": "Variant sub", "cta_text": "Variant CTA",
                 "preorder_price": "19.00"}  # fmt: skip
    in_a, in_b = browser(visitor_in(experiment, 0)), browser(visitor_in(experiment, 1))
    # Before the start: everyone sees the page, and its render is cached.
    assert shown(in_b.get("/p/buy/")) == base
    assert shown(in_b.get("/p/buy/")) == base

    move(auth_api_client, experiment.pk, "start")
    for _ in range(3):  # sticky: the cookie alone decides
        assert shown(in_a.get("/p/buy/")) == base
        assert shown(in_b.get("/p/buy/")) == variant_b
    # The variant's price follows the visitor to the fake door's honest page.
    assert "want it at $19." in in_b.get("/p/buy/preorder").content.decode()

    move(auth_api_client, experiment.pk, "pause")
    assert shown(in_b.get("/p/buy/")) == base
    move(auth_api_client, experiment.pk, "start")
    assert shown(in_b.get("/p/buy/")) == variant_b
    move(auth_api_client, experiment.pk, "complete")
    assert shown(in_b.get("/p/buy/")) == base
    assert "want it at $49." in in_b.get("/p/buy/preorder").content.decode()


def test_blank_overrides_keep_the_pages_own_copy(auth_api_client, project, live_page):
    body = created(
        auth_api_client, project, live_page, variants=variant_list("control", "b", b={"cta_text": "Only the CTA"})
    )
    move(auth_api_client, body["id"], "start")
    seen = shown(browser(visitor_in(Experiment.objects.get(pk=body["id"]), 1)).get("/p/chaser/"))
    assert seen["headline"] == live_page.headline
    assert seen["cta_text"] == "Only the CTA"


def test_visitors_outside_the_coverage_see_the_page_and_their_events_carry_no_variant(
    auth_api_client, project, live_page
):
    body = created(
        auth_api_client,
        project,
        live_page,
        coverage="0.3",
        variants=variant_list("control", "b", b={"headline": "Variant B"}),
    )
    move(auth_api_client, body["id"], "start")
    experiment = Experiment.objects.get(pk=body["id"])
    inside, outside = visitor_in(experiment, 1), visitor_in(experiment, None)
    for vid in (inside, outside):
        client = browser(vid)
        client.get("/p/chaser/")
        assert client.post("/p/chaser/e", {"k": "cta_click"}).status_code == 204
    assert shown(browser(outside).get("/p/chaser/"))["headline"] == live_page.headline
    call_command("flush_events")

    def seen(vid):
        from security.hashing import hash_identifier

        rows = Event.objects.filter(visitor_hash=hash_identifier(vid)).order_by("kind")
        return sorted({(e.kind, e.experiment_id, e.variant) for e in rows})

    assert seen(inside) == [("cta_click", experiment.pk, "b"), ("view", experiment.pk, "b")]
    assert seen(outside) == [("cta_click", None, ""), ("view", None, "")]
    assert list(ExperimentExposure.objects.values_list("variant", flat=True)) == ["b"]


def _split(experiment: Experiment, n: int) -> list[int]:
    weights = [v.weight for v in experiment.variants.all()]
    per_variant = [0] * len(weights)
    outside = 0
    for i in range(n):
        index = assign(f"visitor-{i:012d}", seed=experiment.seed, coverage=float(experiment.coverage), weights=weights)
        if index is None:
            outside += 1
        else:
            per_variant[index] += 1
    return [*per_variant, outside]


def _within_binomial(observed: int, n: int, p: float, sds: float = 4.5) -> bool:
    """`observed` out of `n` is within `sds` standard deviations of a Binomial(n, p) mean."""
    return abs(observed - n * p) <= sds * math.sqrt(n * p * (1 - p))


def test_coverage_share_is_near_the_coverage(auth_api_client, project, live_page):
    body = created(auth_api_client, project, live_page, coverage="0.4")
    *in_variants, outside = _split(Experiment.objects.get(pk=body["id"]), 1000)
    assert _within_binomial(sum(in_variants), 1000, 0.4), in_variants
    assert _within_binomial(outside, 1000, 0.6)
    assert all(_within_binomial(n, 1000, 0.2) for n in in_variants)


def test_weights_80_20_split_80_20(auth_api_client, project, live_page):
    body = created(
        auth_api_client, project, live_page, variants=variant_list("a", "b", a={"weight": 80}, b={"weight": 20})
    )
    a, b, outside = _split(Experiment.objects.get(pk=body["id"]), 1000)
    assert outside == 0 and a + b == 1000
    assert _within_binomial(a, 1000, 0.8), (a, b)


def test_five_variants_split_evenly_and_each_shows_its_headline(auth_api_client, project, live_page):
    keys = ("a", "b", "c", "d", "e")
    variants = variant_list(*keys, **{k: {"headline": f"Headline {k.upper()}"} for k in keys[1:]})
    body = created(auth_api_client, project, live_page, variants=variants)
    move(auth_api_client, body["id"], "start")
    experiment = Experiment.objects.get(pk=body["id"])
    *per_variant, outside = _split(experiment, 1000)
    assert outside == 0
    assert all(_within_binomial(n, 1000, 0.2) for n in per_variant), per_variant
    expected = [live_page.headline, "Headline B", "Headline C", "Headline D", "Headline E"]
    for index, headline in enumerate(expected):
        assert shown(browser(visitor_in(experiment, index)).get("/p/chaser/"))["headline"] == headline
    # And the five arms are analysed (Monte Carlo "chance to be best").
    arms = [("a", 110, 11), ("b", 104, 15), ("c", 98, 9), ("d", 120, 14), ("e", 101, 30)]
    for key, n, conversions in arms:
        expose(experiment, key, n, signed_up=conversions)
    results = auth_api_client.get(f"/api/experiments/{experiment.pk}/results").json()
    expected_results = reference(experiment, arms, results["days_running"])
    assert results["arms"] == expected_results["arms"]
    assert results["decision"] == expected_results["decision"]
    assert max(results["arms"], key=lambda a: a["prob_best"])["key"] == "e"

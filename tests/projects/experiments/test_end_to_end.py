"""An experiment end to end, through the HTTP client: 2,000 visitors with their own cookies on
a running 50/50 experiment, each coming back, some clicking, some signing up; then the worker's
flush, and the results endpoint against a reference computed from the raw events."""

import re

import pytest
from django.core.management import call_command

from projects.analysis.experiments import Arm, analyse
from projects.analysis.thresholds import SRM_ALPHA
from projects.events import worker
from projects.models import Event, EventKind, Experiment, ExperimentExposure, Traffic
from tests.projects.conftest import visitor_token
from tests.projects.experiments.helpers import BROWSER, make_running_experiment

pytestmark = pytest.mark.django_db

VISITORS = 2000


def _headline(html: str) -> str:
    return re.search(r"<h1>(.*?)</h1>", html, re.S).group(1).strip()


def _reference(experiment: Experiment) -> list[Arm]:
    """Per variant, from the raw events alone: people (not bots, not the founder) who ran the
    page's script or interacted, and those of them who signed up."""
    people: dict[str, set[str]] = {}
    confirmed: set[str] = set()
    signed: set[str] = set()
    for e in Event.objects.filter(experiment=experiment, traffic=Traffic.HUMAN):
        people.setdefault(e.variant, set()).add(e.visitor_hash)
        if e.kind != EventKind.VIEW:
            confirmed.add(e.visitor_hash)
        if e.kind == EventKind.SIGNUP:
            signed.add(e.visitor_hash)
    return [
        Arm(
            key=v.key,
            weight=float(v.weight),
            visitors=len(people.get(v.key, set()) & confirmed),
            conversions=len(people.get(v.key, set()) & confirmed & signed),
            is_control=v.is_control,
        )
        for v in experiment.variants.all()
    ]


def test_two_thousand_visitors_sticky_split_counted_and_analysed(auth_api_client, project, client_factory):
    page, experiment = make_running_experiment(auth_api_client, project, weights=(50, 50))
    headlines = {"control": page.headline, "b": "Stop chasing invoices by hand"}
    shown: dict[str, int] = {"control": 0, "b": 0}
    clicks = signups = 0
    for i in range(VISITORS):
        # Each person from their own address, as on the internet (one address is rate limited).
        visitor = client_factory(HTTP_USER_AGENT=BROWSER, REMOTE_ADDR=f"10.1.{i // 250}.{i % 250 + 1}")
        first = _headline(visitor.get(f"/p/{page.slug}/?utm_source=google&utm_medium=cpc").content.decode())
        variant = next(key for key, text in headlines.items() if text == first)
        shown[variant] += 1
        assert visitor.post(f"/p/{page.slug}/e", {"k": "beacon"}).status_code == 204
        # Back another time: the same variant, with nothing stored but the cookie.
        assert _headline(visitor.get(f"/p/{page.slug}/").content.decode()) == first
        if i % 4 == 0:
            assert visitor.post(f"/p/{page.slug}/e", {"k": "cta_click"}).status_code == 204
            clicks += 1
        if i % 9 == 0 or (variant == "b" and i % 13 == 0):
            response = visitor.post(
                f"/p/{page.slug}/signup",
                {"email": f"person{i}@example.com", "consent": "on", "website": "",
                 "form_token": visitor_token(visitor), "utm_source": "google", "utm_medium": "cpc"},
            )  # fmt: skip
            assert response.status_code == 302
            signups += 1
    # Crawlers and the founder's own previews: counted apart, never in the results.
    for i in range(50):
        bot = client_factory(HTTP_USER_AGENT="Mozilla/5.0 (compatible; Googlebot/2.1)", REMOTE_ADDR=f"10.2.0.{i + 1}")
        bot.get(f"/p/{page.slug}/")
    founder = client_factory(HTTP_USER_AGENT=BROWSER)
    preview = auth_api_client.get(f"/api/landing-pages/{page.pk}/").json()["preview_url"]
    assert founder.get(preview).status_code == 302
    for _ in range(5):
        founder.get(f"/p/{page.slug}/")

    call_command("flush_events")

    assert worker.backlog().unrolled == 0
    views = Event.objects.filter(page=page, kind=EventKind.VIEW)
    assert views.filter(traffic=Traffic.HUMAN).count() == 2 * VISITORS  # every view served was counted
    assert views.filter(traffic=Traffic.BOT).count() == 50
    assert views.filter(traffic=Traffic.FOUNDER).count() == 5
    assert ExperimentExposure.objects.filter(experiment=experiment).count() == VISITORS

    body = auth_api_client.get(f"/api/experiments/{experiment.pk}/results").json()
    # The split passes the sample-ratio check (a fair 50/50 hash), and is what visitors saw.
    assert body["srm"]["p_value"] > SRM_ALPHA and body["srm"]["unhealthy"] is False
    arms = {a["key"]: a for a in body["arms"]}
    assert {k: arms[k]["visitors"] for k in arms} == shown
    assert sum(a["conversions"] for a in arms.values()) == signups
    assert sum(body["secondary"][k]["cta_clicks"] for k in arms) == clicks

    reference = analyse(_reference(experiment), days_running=body["days_running"],
                              mde_relative=float(experiment.minimum_detectable_effect)).to_dict()  # fmt: skip
    for key in ("arms", "srm", "gates", "sample_size_per_variant", "decision"):
        assert body[key] == reference[key], key
    # The counts the worker keeps on the variants (the staff dashboard's) agree with the raw data.
    kept = {v.key: (v.people, v.converted) for v in experiment.variants.all()}
    assert kept == {a.key: (a.visitors, a.conversions) for a in _reference(experiment)}

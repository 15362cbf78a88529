"""The project around a demo page's traffic (`projects.demo_traffic`), set up through the platform's
services as a founder would: campaigns, page variants, the page's launch, an experiment built
from the variants, and each campaign's daily spend in line with the paid visitors it sent.
Demo data and tests only."""

import random
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from projects.analysis import spend_csv
from projects.demo_audience import PLATFORM_CPC
from projects.models import (
    Campaign,
    CampaignStatus,
    Experiment,
    ExperimentStatus,
    LandingPage,
    PageVariant,
    Project,
)
from projects.services.campaigns import SpendImport, campaign_create, campaign_move, spend_import
from projects.services.experiments import VARIANT_CONTENT_FIELDS, experiment_create, experiment_move
from projects.services.pages import landing_page_publish
from projects.services.variants import variant_create, variant_update


def campaigns_seed(*, project: Project, specs: Iterable[Mapping[str, Any]], starts_on: date) -> list[Campaign]:
    """Active campaigns (`campaign_create` fields per spec: name, platform, budget, utm_campaign)
    running since `starts_on`. Create them before the page's first visitor, as a founder would:
    the test card takes its channel from them."""
    campaigns = []
    for spec in specs:
        campaign = campaign_create(project=project, starts_on=starts_on, **spec)
        campaigns.append(campaign_move(campaign=campaign, to=CampaignStatus.ACTIVE))
    return campaigns


def page_variants_seed(*, page: LandingPage, specs: Iterable[tuple[str, Mapping[str, Any]]]) -> list[PageVariant]:
    """Page variants (name, changed fields) through the variants' services."""
    variants = []
    for name, values in specs:
        variant = variant_create(page=page, name=name)
        variants.append(variant_update(variant=variant, name=name, values=dict(values)))
    return variants


def page_launch(*, page: LandingPage, at: datetime) -> LandingPage:
    """Publish the page (the test card is written then) and date its launch `at`, in the past."""
    page = landing_page_publish(page=page)
    LandingPage.objects.filter(pk=page.pk).update(published_at=at)
    page.published_at = at
    return page


def experiment_seed(
    *,
    page: LandingPage,
    name: str,
    variants: Iterable[PageVariant],
    started: datetime,
    seed: int = 24,
    hypothesis: str = "",
) -> Experiment:
    """A running experiment of the page (arm "a", the control) against page variants (arms "b"..,
    each keeping a snapshot of its variant's changes, `Variant.overrides`), equal weights, started
    `started`. Its assignment seed is fixed by `seed`, so the arms' people are the same on every run."""
    arms: list[dict[str, Any]] = [{"key": "a", "name": "The page", "is_control": True, "weight": 1}]
    for key, variant in zip("bcde", variants, strict=False):
        arm: dict[str, Any] = {"key": key, "name": variant.name, "weight": 1}
        arm.update({f: variant.overrides[f] for f in VARIANT_CONTENT_FIELDS if f in variant.overrides})
        arms.append({**arm, "overrides": dict(variant.overrides)})
    experiment = experiment_create(page=page, name=name, hypothesis=hypothesis, variants=arms)
    for arm in arms[1:]:
        experiment.variants.filter(key=arm["key"]).update(overrides=arm["overrides"])
    Experiment.objects.filter(pk=experiment.pk).update(seed=f"demo{seed:04d}")
    experiment.refresh_from_db()
    experiment = experiment_move(experiment=experiment, to=ExperimentStatus.RUNNING)
    Experiment.objects.filter(pk=experiment.pk).update(started_at=started)
    experiment.started_at = started
    return experiment


# --- The worker --------------------------------------------------------------------------------


def spend_seed(*, campaign: Campaign, people: Mapping[date, int], seed: int = 24) -> SpendImport:
    """A campaign's daily spend (through `spend_import`) for the days it brought `people`
    (`TrafficResult.paid_people[campaign.utm_campaign]`): a few more clicks than people who
    loaded the page, many impressions per click, and the platform's cost per click with noise."""
    rng = random.Random(f"{seed}:{campaign.utm_campaign}")  # noqa: S311 - demo data, not secrets
    cpc = PLATFORM_CPC.get(campaign.platform, PLATFORM_CPC["other"])
    rows = []
    for line, day in enumerate(sorted(people), start=1):
        clicks = round(people[day] * rng.uniform(1.05, 1.25))
        spend = (cpc * Decimal(str(round(rng.uniform(0.8, 1.2), 3))) * clicks).quantize(Decimal("0.01"))
        rows.append(
            spend_csv.SpendRow(
                line=line, date=day, spend=spend, impressions=clicks * rng.randint(35, 90), clicks=clicks
            )
        )
    return spend_import(campaign=campaign, rows=rows)

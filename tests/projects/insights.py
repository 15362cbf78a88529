"""A busy project for the founder's screens' tests (query-count pins above all): 30 days of
rollups, a pre-order page with 4 page variants and a running experiment with 5 arms, 3
campaigns with daily spend, signups (some confirmed, some pre-ordered). Built with
`projects.demo_traffic`: the raw events a public page makes, rolled up by the worker's own code.

Use the `busy_project` fixture (tests/projects/conftest.py), or `busy_project_build(owner=...)`
for a second one (another founder's project, or a test that wants more traffic)."""

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from projects.demo_setup import (
    campaigns_seed,
    experiment_seed,
    page_launch,
    page_variants_seed,
    spend_seed,
)
from projects.demo_traffic import TrafficResult, traffic_seed
from projects.models import Campaign, CtaKind, Experiment, LandingPage, PageVariant, Project
from projects.services.pages import landing_page_create
from projects.services.prototypes import prototype_generate
from tests.factories import ProjectFactory

BUSY_DAYS = 30
BUSY_VISITORS_PER_DAY = 20
BUSY_VARIANTS = (
    ("Get paid on time", {"headline": "Get paid on time, without the awkward emails"}),
    ("Hours back", {"headline": "Win back four hours a month of invoice chasing"}),
    ("Deposits", {"subheadline": "See who pays late, and ask them for a deposit next time."}),
    ("Short", {"headline": "Invoices, chased for you"}),
)
BUSY_CAMPAIGNS = (
    {"name": "Google search", "platform": "google", "budget": Decimal("900"), "utm_campaign": "busy-search"},
    {"name": "Meta feed", "platform": "meta", "budget": Decimal("500"), "utm_campaign": "busy-feed"},
    {"name": "Reddit freelance", "platform": "reddit", "budget": Decimal("300"), "utm_campaign": "busy-reddit"},
)
BUSY_ARM_LIFT = {"b": 1.3, "c": 0.9, "d": 1.1, "e": 1.0}


@dataclass(frozen=True)
class BusyProject:
    project: Project
    page: LandingPage
    variants: list[PageVariant]
    experiment: Experiment
    campaigns: list[Campaign]
    traffic: TrafficResult


def busy_project_build(
    *, owner, visitors_per_day: int = BUSY_VISITORS_PER_DAY, seed: int = 7, slug: str = "busy"
) -> BusyProject:
    """The busy project of `owner` (see the module): launched 30 days ago, campaigns from its
    first day, the experiment from its third, traffic through yesterday."""
    today = timezone.now().astimezone(UTC).date()
    first = today - timedelta(days=BUSY_DAYS)
    project = ProjectFactory(owner=owner, name="Busy Invoice Chaser")
    prototype_generate(project=project)
    page = landing_page_create(project=project, slug=slug, cta_kind=CtaKind.PREORDER)
    campaigns = campaigns_seed(project=project, specs=BUSY_CAMPAIGNS, starts_on=first)
    variants = page_variants_seed(page=page, specs=BUSY_VARIANTS)
    launched = datetime.combine(first, time(6), tzinfo=UTC)
    page = page_launch(page=page, at=launched)
    experiment = experiment_seed(
        page=page, name="Five headlines", variants=variants, started=launched + timedelta(days=2), seed=seed
    )
    traffic = traffic_seed(
        page=page, days=BUSY_DAYS, visitors_per_day=visitors_per_day, seed=seed, arm_lift=BUSY_ARM_LIFT
    )
    for campaign in campaigns:
        spend_seed(campaign=campaign, people=traffic.paid_people[campaign.utm_campaign], seed=seed)
    return BusyProject(project, page, variants, experiment, campaigns, traffic)


# --- Counting raw events by hand (what the rollups must equal) ----------------------------------

FIGURES = (
    "views", "visitors", "cta_clicks", "signups", "preorders", "bounces",
    "clicked_visitors", "signed_up_visitors", "preordered_visitors",
)  # fmt: skip
INTERACTIONS = {"view", "cta_click", "signup", "preorder"}


def rollups_by_hand(page_ids) -> dict[tuple, dict[str, int]]:
    """{(page, day, experiment, variant, channel, traffic): figures} counted from the raw events:
    events by kind; a visitor is someone with an interaction in the row's day; clickers, signed-up
    and pre-ordered people; a bounce is a visitor whose only interaction was one view."""
    from collections import defaultdict

    from projects.models import Event

    visits: dict[tuple, list[str]] = defaultdict(list)
    for e in Event.objects.filter(page_id__in=page_ids).values_list(
        "page_id", "day", "experiment_id", "variant", "channel", "traffic", "visitor_hash", "kind"
    ):
        visits[e[:7]].append(e[7])
    rows: dict[tuple, dict[str, int]] = defaultdict(lambda: dict.fromkeys(FIGURES, 0))
    for key, kinds in visits.items():
        row = rows[key[:6]]
        acts = [k for k in kinds if k in INTERACTIONS]
        row["views"] += kinds.count("view")
        row["cta_clicks"] += kinds.count("cta_click")
        row["signups"] += kinds.count("signup")
        row["preorders"] += kinds.count("preorder")
        row["visitors"] += int(bool(acts))
        row["bounces"] += int(acts == ["view"])
        row["clicked_visitors"] += int("cta_click" in kinds)
        row["signed_up_visitors"] += int("signup" in kinds)
        row["preordered_visitors"] += int("preorder" in kinds)
    return {key: row for key, row in rows.items() if any(row.values())}


def rollups_stored(page_ids) -> dict[tuple, dict[str, int]]:
    from projects.models import DailyRollup

    stored = {}
    for r in DailyRollup.objects.filter(page_id__in=page_ids):
        row = {name: getattr(r, name) for name in FIGURES}
        if any(row.values()):
            stored[(r.page_id, r.day, r.experiment_id, r.variant, r.channel, r.traffic)] = row
    return stored


def exposures_by_hand(experiment_ids) -> dict[tuple, dict]:
    """{(experiment, visitor): exposure} from the people's raw events: the variant of their first
    event, confirmed by any event but a view (the beacon or an interaction), and what they did."""
    from projects.models import Event

    seen: dict[tuple, dict] = {}
    for e in (
        Event.objects.filter(experiment_id__in=experiment_ids, traffic="human")
        .exclude(variant="")
        .order_by("occurred_at", "id")
    ):
        x = seen.setdefault(
            (e.experiment_id, e.visitor_hash),
            {"variant": e.variant, "confirmed": False, "clicked": False, "signed_up": False, "preordered": False},
        )
        x["confirmed"] |= e.kind != "view"
        x["clicked"] |= e.kind == "cta_click"
        x["signed_up"] |= e.kind == "signup"
        x["preordered"] |= e.kind == "preorder"
    return seen

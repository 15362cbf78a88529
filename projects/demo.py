"""Demo data for a new user's first run (`manage.py seed_demo`): two accounts, two projects
with prototypes, and one published pre-order page with a month of history: two page variants, a
running experiment built from the page and one of them, a Google and a Meta campaign with their
daily spend, visitors, signups (some confirmed, some pre-ordered), the rollups the event worker
made of them, and a report kept a week ago. A newcomer sees a scored report, a running
experiment and campaigns on first start. Idempotent."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from projects.demo_setup import (
    campaigns_seed,
    experiment_seed,
    page_launch,
    page_variants_seed,
    spend_seed,
)
from projects.demo_traffic import traffic_seed
from projects.models import CtaKind, LandingPage, ReportSnapshot
from projects.models.projects import Project
from projects.selectors.reports import project_report
from projects.services.pages import landing_page_create, landing_page_publish
from projects.services.projects import project_create
from projects.services.prototypes import prototype_generate
from projects.services.reports import report_snapshot_create
from security.models import User
from security.services import user_create, user_reset_password


@dataclass(frozen=True)
class DemoAccount:
    email: str
    password: str
    name: str
    is_staff: bool


# Known demo passwords, printed on the console by `make run`: demo data only, never production.
DEMO_STAFF = DemoAccount("staff@demo.mvpvalidator.dev", "demo-staff-pass-2024", "Demo Staff", True)
DEMO_FOUNDER = DemoAccount("founder@demo.mvpvalidator.dev", "demo-founder-pass-2024", "Demo Founder", False)

DEMO_PROJECTS = (
    {
        "name": "Invoice Chaser",
        "idea_description": (
            "Freelancers lose hours every month chasing late invoices. Invoice Chaser connects to "
            "their invoicing tool, sends polite, escalating reminders on a schedule, and shows who "
            "pays late so they can ask for deposits."
        ),
        "target_audience": "Freelance designers and developers",
        "price_point": Decimal("29.00"),
        "business_model": "saas",
        "delivery": "web_app",
        "billing": "subscription",
        "slug": "invoice-chaser-demo",
        "history": True,
    },
    {
        "name": "Sourdough in a Weekend",
        "idea_description": (
            "A video course that takes complete beginners from starter to a great loaf in one "
            "weekend, with a printable schedule and live Q&A."
        ),
        "target_audience": "Home bakers",
        "price_point": Decimal("49.00"),
        "business_model": "course",
        "delivery": "course",
        "billing": "one_time",
        "slug": "",
        "history": False,
    },
)


# The project fields a demo spec sets (the rest of a spec is its page and signups).
PROJECT_SPEC_FIELDS = (
    "name",
    "idea_description",
    "target_audience",
    "price_point",
    "business_model",
    "delivery",
    "billing",
)
DEMO_PAGE_PATH = f"/p/{DEMO_PROJECTS[0]['slug']}/"


@dataclass
class SeedResult:
    created: dict[str, bool] = field(default_factory=dict)
    projects_created: int = 0


def _account(account: DemoAccount, result: SeedResult) -> User:
    user = User.objects.filter(email=account.email).first()
    result.created[account.email] = user is None
    if user is None:
        return user_create(
            email=account.email,
            password=account.password,
            name=account.name,
            is_staff=account.is_staff,
            is_superuser=account.is_staff,
        )
    return user_reset_password(user=user, password=account.password)


# The demo page's month of history.
DEMO_DAYS = 30
DEMO_VISITORS_PER_DAY = 120
DEMO_EXPERIMENT_DAY = 9  # the experiment starts on this day of the month (so it has three weeks)
DEMO_KEPT_DAYS_AGO = 7  # the kept report
DEMO_SEED = 24
# The page variants (their changes to the page) and the experiment built from the page and the first.
DEMO_VARIANTS = (
    (
        "Get paid on time",
        {
            "headline": "Get paid on time, without the awkward emails",
            "subheadline": "Polite reminders go out on schedule, so you never chase an invoice again.",
        },
    ),
    ("Hours back", {"headline": "Win back four hours a month of invoice chasing"}),
)
DEMO_ARM_LIFT = {"b": 1.35}  # variant B pulls a little better: the results lean its way
DEMO_CAMPAIGNS = (
    {"name": "Google search: invoice reminders", "platform": "google", "budget": Decimal("900"),
     "utm_campaign": "invoice-reminders-search"},
    {"name": "Meta: freelancers feed", "platform": "meta", "budget": Decimal("500"),
     "utm_campaign": "freelancers-feed"},
)  # fmt: skip


def _history(project: Project, page: LandingPage) -> None:
    """A month of the page's life, in the order it would have happened: campaigns and variants,
    launch, an experiment from the second week, traffic and spend, a report kept a week ago."""
    today = timezone.now().astimezone(UTC).date()
    first = today - timedelta(days=DEMO_DAYS)
    campaigns = campaigns_seed(project=project, specs=DEMO_CAMPAIGNS, starts_on=first)
    variants = page_variants_seed(page=page, specs=DEMO_VARIANTS)
    launched = datetime.combine(first, time(7, 30), tzinfo=UTC)
    page = page_launch(page=page, at=launched)
    experiment_seed(
        page=page,
        name=f"The page against \u201c{variants[0].name}\u201d",
        hypothesis="Leading with getting paid on time, not with chasing, makes more freelancers pre-order.",
        variants=variants[:1],
        started=launched + timedelta(days=DEMO_EXPERIMENT_DAY),
        seed=DEMO_SEED,
    )

    def month_part(days: int, end_days_ago: int) -> None:
        traffic = traffic_seed(
            page=page,
            days=days,
            visitors_per_day=DEMO_VISITORS_PER_DAY,
            end=today - timedelta(days=end_days_ago),
            seed=DEMO_SEED,
            arm_lift=DEMO_ARM_LIFT,
        )
        for campaign in campaigns:
            spend_seed(campaign=campaign, people=traffic.paid_people[campaign.utm_campaign], seed=DEMO_SEED + days)

    # Up to a week ago, then the report the founder kept then; then the last week.
    month_part(DEMO_DAYS - DEMO_KEPT_DAYS_AGO, DEMO_KEPT_DAYS_AGO + 1)
    _keep_report(project, page, launched=launched, days_ago=DEMO_KEPT_DAYS_AGO)
    month_part(DEMO_KEPT_DAYS_AGO, 1)


def _keep_report(project: Project, page: LandingPage, *, launched: datetime, days_ago: int) -> None:
    """The report as it stood `days_ago` days ago (its traffic is all that was there then), kept
    then: computed now with the page's age then, and dated then."""
    LandingPage.objects.filter(pk=page.pk).update(published_at=launched + timedelta(days=days_ago))
    report = project_report(project=project)
    LandingPage.objects.filter(pk=page.pk).update(published_at=launched)
    kept_at = timezone.now() - timedelta(days=days_ago)
    report["computed_at"] = kept_at
    snapshot = report_snapshot_create(project=project, report=report)
    ReportSnapshot.objects.filter(pk=snapshot.pk).update(created_at=kept_at)


def _project(owner: User, spec: dict[str, Any]) -> bool:
    if Project.objects.filter(owner=owner, name=spec["name"]).exists():
        return False
    project = project_create(
        owner=owner,
        **{k: spec[k] for k in PROJECT_SPEC_FIELDS},
    )
    prototype_generate(project=project)
    if not spec["slug"]:
        return True
    page = landing_page_create(
        project=project,
        slug=spec["slug"],
        cta_kind=CtaKind.PREORDER,
        qualifying_question="What do you use today?",
    )
    if spec["history"]:
        _history(project, page)
    else:
        landing_page_publish(page=page)
    return True


@transaction.atomic
def demo_seed() -> SeedResult:
    result = SeedResult()
    _account(DEMO_STAFF, result)
    founder = _account(DEMO_FOUNDER, result)
    result.projects_created = sum(_project(founder, spec) for spec in DEMO_PROJECTS)
    return result

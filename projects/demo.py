"""Demo data for a new user's first run (`manage.py seed_demo`): two accounts, two projects
with prototypes, one published page with a few signups. Idempotent."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction

from projects.models.projects import Project
from projects.services.pages import landing_page_create, landing_page_publish
from projects.services.projects import project_create
from projects.services.prototypes import prototype_generate
from projects.services.signups import signup_confirm, signup_create
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
        "signups": ("ana@example.org", "ben@example.org", "chloe@example.org", "dev@example.org"),
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
        "signups": (),
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


def _project(owner: User, spec: dict) -> bool:
    if Project.objects.filter(owner=owner, name=spec["name"]).exists():
        return False
    project = project_create(
        owner=owner,
        **{k: spec[k] for k in PROJECT_SPEC_FIELDS},
    )
    prototype_generate(project=project)
    if not spec["slug"]:
        return True
    page = landing_page_create(project=project, slug=spec["slug"], qualifying_question="What do you use today?")
    page = landing_page_publish(page=page)
    for index, email in enumerate(spec["signups"]):
        result = signup_create(
            page=page,
            email=email,
            utm={"utm_source": "google" if index % 2 else "newsletter"},
            consent=True,
            send_confirmation=False,
        )
        if index % 2 == 0:
            signup_confirm(signup=result.signup)
    return True


@transaction.atomic
def demo_seed() -> SeedResult:
    result = SeedResult()
    _account(DEMO_STAFF, result)
    founder = _account(DEMO_FOUNDER, result)
    result.projects_created = sum(_project(founder, spec) for spec in DEMO_PROJECTS)
    return result

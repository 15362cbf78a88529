"""The projects' named indexes exist in the database, and on PostgreSQL the planner picks each
one for the query it was declared for.

The planner tests load enough rows (thousands of projects over 50 owners, thousands of signups)
and ANALYZE the tables, so the plans are the ones real statistics produce: sequential scans
stay allowed, an index has to win on cost.
"""

from decimal import Decimal

import pytest
from django.apps import apps
from django.db import connection, models
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from mvpvalidator.pagination import encode_cursor
from projects.models import LandingPage, PageStatus, Project, ProjectStatus, Signup
from projects.selectors.projects import project_list
from security.models import User

OWNERS = 50
PROJECTS_PER_OWNER = 80
# One account (an agency) with a long list: past a page of rows per status, the index's order
# is what saves the sort.
AGENCY_PROJECTS = 600
PAGES_WITH_SIGNUPS = 10
SIGNUPS_PER_PAGE = 300
STATUSES = list(ProjectStatus.values)


def declared_indexes() -> list[tuple[type[models.Model], models.Index]]:
    return [(model, index) for model in apps.get_app_config("projects").get_models() for index in model._meta.indexes]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("model", "index"),
    declared_indexes(),
    ids=[f"{model.__name__}.{index.name}" for model, index in declared_indexes()],
)
def test_declared_index_exists_with_its_columns_and_order(model, index):
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)

    assert index.name in constraints, f"{index.name} is declared on {model.__name__} but missing from the database"
    found = constraints[index.name]
    assert found["index"]
    assert found["columns"] == [model._meta.get_field(name.lstrip("-")).column for name in index.fields]
    assert found["orders"] == ["DESC" if name.startswith("-") else "ASC" for name in index.fields]


def test_every_projects_model_index_is_covered():
    # The parametrized test above runs once per declared index; guard against it silently
    # running for none.
    assert {index.name for _, index in declared_indexes()} >= {
        "project_owner_created_idx",
        "project_owner_status_upd_idx",
        "signup_project_created_idx",
        "signup_page_created_idx",
        "page_project_created_idx",
    }


@pytest.fixture
def workload(db) -> dict[str, object]:
    """50 owners with 80 projects each (statuses mixed), 10 published pages with 300 signups
    each, timestamps spread out, statistics fresh."""
    now = timezone.now()
    owners = User.objects.bulk_create(
        [User(email=f"owner{i}@example.com", name=f"Owner {i}", password="!") for i in range(OWNERS + 1)]
    )
    agency = owners.pop()
    # Owners interleaved, as rows arrive in real life (no owner's projects clustered on disk).
    listing = [(owner, n) for n in range(PROJECTS_PER_OWNER) for owner in owners]
    listing += [(agency, n) for n in range(AGENCY_PROJECTS)]
    projects = Project.objects.bulk_create(
        [
            Project(
                owner=owner,
                name=f"Idea {owner.pk}-{n}",
                idea_description="A tool that helps freelancers chase late invoices automatically.",
                price_point=Decimal("29.00"),
                business_model="saas",
                status=STATUSES[n % len(STATUSES)],
                completed_at=now if STATUSES[n % len(STATUSES)] == ProjectStatus.COMPLETED else None,
            )
            for owner, n in listing
        ],
        batch_size=1000,
    )
    pages = LandingPage.objects.bulk_create(
        [
            LandingPage(
                project=project,
                slug=f"page-{project.pk}",
                status=PageStatus.PUBLISHED,
                published_at=now,
                headline="Get paid on time",
                value_proposition="Invoices chase themselves.",
                cta_text="Join the waitlist",
            )
            for project in projects[:PAGES_WITH_SIGNUPS]
        ]
    )
    Signup.objects.bulk_create(
        [
            Signup(landing_page=page, project_id=page.project_id, email=f"visitor{n}@example.com")
            for page in pages
            for n in range(SIGNUPS_PER_PAGE)
        ],
        batch_size=1000,
    )
    with connection.cursor() as cursor:
        # auto_now(_add) stamps every bulk-created row with the same instant; real data is
        # spread over time (and ties would tell the planner nothing about order).
        cursor.execute(
            "UPDATE projects_project SET created_at = now() - id * interval '1 hour', "
            "updated_at = now() - (id * 7919 % 5000) * interval '1 minute'"
        )
        cursor.execute("UPDATE projects_signup SET created_at = now() - id * interval '1 minute'")
        cursor.execute("ANALYZE projects_project, projects_landingpage, projects_signup")
    return {"owner": owners[OWNERS // 2], "agency": agency, "project": projects[PAGES_WITH_SIGNUPS // 2]}


def plan_of(queryset: models.QuerySet) -> str:
    return queryset.explain()


@pytest.mark.postgres
def test_owner_project_list_newest_first_uses_owner_created_index(workload):
    plan = plan_of(project_list(user=workload["owner"], status=None)[:20])

    assert "project_owner_created_idx" in plan, plan


def owner_live_projects(owner: User) -> models.QuerySet[Project]:
    return Project.objects.filter(owner=owner, status=ProjectStatus.LIVE).order_by("-updated_at")


@pytest.mark.postgres
def test_owner_list_by_status_recently_updated_first_uses_owner_status_index(workload):
    # 16 matching rows, fewer than the page: the planner reads them through the index's
    # (owner, status) prefix and sorts them, which is cheaper than walking the index in order.
    plan = plan_of(owner_live_projects(workload["owner"])[:20])

    assert "project_owner_status_upd_idx" in plan, plan


@pytest.mark.postgres
def test_long_list_by_status_is_read_in_index_order_without_sorting(workload):
    # 120 matching rows: walking the index in (owner, status, -updated_at) order and stopping
    # after 20 beats fetching and sorting them all.
    plan = plan_of(owner_live_projects(workload["agency"])[:20])

    assert "Index Scan using project_owner_status_upd_idx" in plan, plan
    assert "Sort" not in plan, plan


@pytest.mark.postgres
def test_signup_keyset_page_uses_project_created_index_without_sorting(workload):
    queryset = Signup.objects.filter(project=workload["project"]).order_by("-created_at", "-id")

    plan = plan_of(queryset[:20])

    assert "signup_project_created_idx" in plan, plan
    assert "Sort" not in plan, plan


@pytest.mark.postgres
def test_the_workload_is_big_enough_that_a_table_scan_would_cost_more(workload):
    # Guards the tests above against passing on tables so small that any plan would do.
    assert Project.objects.count() == OWNERS * PROJECTS_PER_OWNER + AGENCY_PROJECTS
    assert Signup.objects.count() == PAGES_WITH_SIGNUPS * SIGNUPS_PER_PAGE
    with connection.cursor() as cursor:
        cursor.execute("SELECT relpages FROM pg_class WHERE relname = 'projects_signup'")
        assert cursor.fetchone()[0] > 20


DEEP_SIGNUPS = 3000


@pytest.mark.postgres
def test_a_deep_keyset_page_starts_its_index_range_at_the_cursor(workload):
    """A page 2,000 rows into one project's signup list, as the API asks for it: the index scan
    must begin at the cursor, not read every newer row and drop it (a deep page would then
    cost in proportion to its depth, as limit/offset's does)."""
    page = LandingPage.objects.filter(status=PageStatus.PUBLISHED).first()
    Signup.objects.bulk_create(
        [
            Signup(landing_page=page, project_id=page.project_id, email=f"deep{n}@example.com")
            for n in range(DEEP_SIGNUPS)
        ],
        batch_size=1000,
    )
    with connection.cursor() as cursor:
        cursor.execute("UPDATE projects_signup SET created_at = now() - id * interval '1 second'")
        cursor.execute("ANALYZE projects_signup")
    newest = Signup.objects.filter(project_id=page.project_id).order_by("-created_at", "-id")
    above = newest[1999]
    client = APIClient()
    client.force_authenticate(user=page.project.owner)
    cursor_param = encode_cursor(above.created_at, above.pk)
    url = f"/api/projects/{page.project_id}/signups?pagination=cursor&limit=50&cursor={cursor_param}"
    with CaptureQueriesContext(connection) as queries:
        body = client.get(url).json()
    assert [s["id"] for s in body["results"]] == [s.pk for s in newest[2000:2050]]
    sql = next(q["sql"] for q in queries.captured_queries if 'FROM "projects_signup"' in q["sql"])

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
        plan = cursor.fetchone()[0][0]["Plan"]

    def nodes(node):
        yield node
        for child in node.get("Plans", []):
            yield from nodes(child)

    scans = [n for n in nodes(plan) if n.get("Relation Name") == "projects_signup"]
    assert [n.get("Index Name") for n in scans] == ["signup_project_created_idx"], plan
    assert "created_at" in scans[0]["Index Cond"], scans[0]
    # 2,000 newer rows precede the page; at most the cursor's own row is read and dropped.
    assert scans[0].get("Rows Removed by Filter", 0) <= 1, scans[0]

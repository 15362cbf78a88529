"""The signup list at scale: 100 projects of one founder, 100,000 signups on the one listed
(and more on the others). Each page costs the same few queries whatever the filter or depth,
and on PostgreSQL every read of the signups starts from the project's index, never a scan of
the table (run with DATABASE_URL pointing at PostgreSQL for the plan tests)."""

import re
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.models import Max
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mvpvalidator.pagination import encode_cursor
from projects.events import shards
from projects.models import (
    Channel,
    Event,
    EventKind,
    EventSequence,
    EventWorkerState,
    LandingPage,
    PageStatus,
    Project,
    Signup,
)
from projects.selectors.signups import SIGNUP_PAGE_SIZE
from tests.factories import UserFactory

PROJECTS = 100
SIGNUPS = 100_000
# The other projects' signups: on PostgreSQL as many as make the listed project a tenth of the
# table, as one project among many is (the planner weighs a project's share of the table: at
# half of it, reading the whole table beats the index for a filter few rows pass).
OTHER_SIGNUPS_PER_PROJECT = {"postgresql": 10_000}.get(connection.vendor, 1000)
PREORDER_EVERY = 997
T0 = datetime(2031, 3, 3, 12, 0, tzinfo=UTC)
CHANNELS = list(Channel.values)
# The tables the workload fills and empties: their statistics are made fresh after the load, and
# they are vacuumed after the delete.
LOADED_TABLES = ", ".join(m._meta.db_table for m in (Signup, Event, LandingPage, Project))


@pytest.fixture(scope="module")
def workload(django_db_setup, django_db_blocker):
    """Loaded once for the module (bulk inserts, then timestamps spread a second apart and fresh
    statistics), removed at the end."""
    with django_db_blocker.unblock():
        owner = UserFactory()
        projects = Project.objects.bulk_create(
            [
                Project(
                    owner=owner,
                    name=f"Idea {n}",
                    idea_description="Invoices that chase themselves.",
                    price_point=29,
                    business_model="saas",
                )
                for n in range(PROJECTS)
            ]
        )
        pages = LandingPage.objects.bulk_create(
            [
                LandingPage(
                    project=p,
                    slug=f"page-{p.pk}",
                    status=PageStatus.PUBLISHED,
                    published_at=T0,
                    headline="Get paid",
                    value_proposition="Invoices chase themselves.",
                    cta_text="Join",
                )  # fmt: skip
                for p in projects
            ]
        )
        listed = pages[PROJECTS // 2]
        insert_signups(listed, SIGNUPS, start=0, varied=True)
        for page in pages:
            if page is not listed:
                insert_signups(page, OTHER_SIGNUPS_PER_PROJECT, start=SIGNUPS + page.pk * OTHER_SIGNUPS_PER_PROJECT)
        # Raw events as a month keeps them: a view of every visitor, on every page; a pre-order
        # ("Buy") of one listed visitor in a thousand.
        for page in pages:
            insert_events(page, SIGNUPS if page is listed else OTHER_SIGNUPS_PER_PROJECT, kind=EventKind.VIEW)
        insert_events(listed, SIGNUPS // PREORDER_EVERY, kind=EventKind.PREORDER, every=PREORDER_EVERY)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {LOADED_TABLES}")
        yield {"owner": owner, "project": listed.project}
        Project.objects.filter(owner=owner).delete()
        owner.delete()
        if connection.vendor == "postgresql":
            # The deleted rows stay in the tables' files until a vacuum: every later count or scan
            # of these tables in the run read through them (a later test reading them dozens of
            # times took 3 s instead of 0.5). Outside any transaction here, so VACUUM may run.
            with connection.cursor() as cursor:
                cursor.execute(f"VACUUM {LOADED_TABLES}")


def insert_series(model, start: int, count: int, chosen: dict[str, tuple[str, list[object]]]) -> None:
    """`count` rows of `model` in one INSERT ... SELECT over the numbers n = start, start + 1, ...
    (a bulk_create of 100,000 rows takes most of a minute): `chosen` gives some columns an SQL
    expression of n (and its parameters), the others take the field's default."""
    postgres = connection.vendor == "postgresql"
    series = (
        "generate_series(%s, %s) AS seq(n)"
        if postgres
        else "(WITH RECURSIVE s(n) AS (SELECT %s UNION ALL SELECT n + 1 FROM s WHERE n < %s) SELECT n FROM s) AS seq"
    )
    template = model()
    columns, selects, params = [], [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(f'"{field.column}"')
        default = [field.get_db_prep_save(field.value_from_object(template), connection)]
        sql, values = chosen.get(field.column, ("%s", default))
        selects.append(sql)
        params.extend(values)
    table = model._meta.db_table
    # The model's own column names and fixed SQL; every value is a parameter.
    query = f'INSERT INTO "{table}" ({", ".join(columns)}) SELECT {", ".join(selects)} FROM {series}'  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(query, [*params, start, start + count - 1])


def seconds_after_t0() -> tuple[str, list[object]]:
    """An SQL timestamp n seconds after T0."""
    if connection.vendor == "postgresql":
        return "%s::timestamptz + n * interval '1 second'", [T0]
    return "datetime(%s, '+' || n || ' seconds')", [T0.replace(tzinfo=None).isoformat(sep=" ")]


def insert_signups(page: LandingPage, count: int, *, start: int, varied: bool = False) -> None:
    """Visitor n signed up n seconds after T0; with `varied`, channels in turn, every third
    confirmed, every fiftieth a known bot."""
    when = seconds_after_t0()
    chosen: dict[str, tuple[str, list[object]]] = {
        "landing_page_id": ("%s", [page.pk]),
        "project_id": ("%s", [page.project_id]),
        "email": ("'v' || n || '@example.com'", []),
        "name": ("'Visitor ' || n", []),
        "visitor_hash": ("'h' || n", []),
        "created_at": when,
    }
    if varied:
        cases = " ".join(f"WHEN {i} THEN '{c}'" for i, c in enumerate(CHANNELS))
        chosen["channel"] = (f"CASE n %% {len(CHANNELS)} {cases} END", [])
        chosen["traffic"] = ("CASE WHEN n %% 50 = 0 THEN 'bot' ELSE 'human' END", [])
        chosen["confirmed_at"] = (f"CASE WHEN n %% 3 = 0 THEN {when[0]} END", when[1])
    insert_series(Signup, start, count, chosen)


def insert_events(page: LandingPage, count: int, *, kind: str, every: int = 1) -> None:
    """Events of visitors 0, every, 2 * every, ... on `page` (as many as the raw events of a
    month keep: views of every visitor, a pre-order of a few)."""
    when = seconds_after_t0()
    chosen: dict[str, tuple[str, list[object]]] = {
        "key": (f"'{kind}-{page.pk}-' || n", []),
        "page_id": ("%s", [page.pk]),
        "kind": ("%s", [kind]),
        "visitor_hash": (f"'h' || (n * {every})", []),
        "occurred_at": when,
        "day": ("%s", [T0.date()]),
    }
    # Numbered in the page's shard after what it holds, and rolled up, as a month's raw events are.
    shard = shards.shard_of(page.pk)
    last = Event.objects.filter(shard=shard).aggregate(last=Max("seq"))["last"] or 0
    chosen.update(shard=("%s", [shard]), seq=(f"n + {last + 1}", []))
    insert_series(Event, 0, count, chosen)
    EventSequence.objects.update_or_create(shard=shard, defaults={"next_seq": last + count + 1})
    EventWorkerState.objects.update_or_create(shard=shard, defaults={"rolled_up_to": last + count})


@pytest.fixture
def owner_client(client, workload):
    client.force_login(workload["owner"])
    return client


def list_url(workload, **query) -> str:
    from urllib.parse import urlencode

    base = reverse("signup-list", kwargs={"pk": workload["project"].pk})
    return f"{base}?{urlencode(query)}" if query else base


def deep_cursor(workload) -> str:
    row = Signup.objects.filter(project=workload["project"]).order_by("-created_at", "-id")[60_000]
    return encode_cursor(row.created_at, row.pk)


# The whole page: session, user, project, the variant filter's choices, the project's pages,
# the rows, their pre-orders, the capped total, the held forms' counts. The htmx fragment: the
# same without the held counts (shown outside the fragment).
PAGE_QUERIES = 9
FRAGMENT_QUERIES = 8

QUERIES = {
    "first page": {},
    "search": {"q": "v9999"},
    "confirmed": {"confirmed": "yes", "channel": "social"},
    "pre-order": {"preorder": "yes"},
    "everyone": {"traffic": "all", "confirmed": "no"},
}


@pytest.mark.django_db
@pytest.mark.parametrize("query", QUERIES.values(), ids=QUERIES.keys())
def test_the_list_costs_the_same_queries_whatever_the_filter(owner_client, workload, query, django_assert_num_queries):
    with django_assert_num_queries(PAGE_QUERIES):
        response = owner_client.get(list_url(workload, **query))
    assert response.status_code == 200 and "<td data-label=" in response.content.decode()
    with django_assert_num_queries(FRAGMENT_QUERIES):
        fragment = owner_client.get(list_url(workload, **query), HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200


@pytest.mark.django_db
def test_a_deep_page_costs_what_the_first_does(owner_client, workload, django_assert_num_queries):
    cursor = deep_cursor(workload)
    with django_assert_num_queries(PAGE_QUERIES):
        older = owner_client.get(list_url(workload, older=cursor))
    with django_assert_num_queries(PAGE_QUERIES):
        newer = owner_client.get(list_url(workload, newer=cursor))
    assert older.status_code == newer.status_code == 200
    assert "More than 1000 signups." in older.content.decode()


@pytest.mark.django_db
def test_the_search_finds_the_one_match_among_100000(owner_client, workload):
    html = owner_client.get(list_url(workload, q="V99999@")).content.decode()
    assert re.findall(r"<td[^>]*>([^<\s]+@example\.com)", html) == ["v99999@example.com"]
    assert 'data-testid="total" role="status">1 signup match these filters.' in html


def signup_queries(owner_client, url: str) -> list[str]:
    """The SQL of the signup reads a page of the list made."""
    with CaptureQueriesContext(connection) as captured:
        assert owner_client.get(url).status_code == 200
    return [q["sql"] for q in captured.captured_queries if 'FROM "projects_signup"' in q["sql"]]


def plan_nodes(sql: str):
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
        plan = cursor.fetchone()[0][0]

    def walk(node):
        yield node
        for child in node.get("Plans", []):
            yield from walk(child)

    return list(walk(plan["Plan"])), plan["Execution Time"]


PLANNED = {**QUERIES, "deep page": None, "newer page": None}
# Where most rows pass, the page is the first rows of the index range. Under a filter few rows
# pass (a search, confirmed and from one channel) the planner may instead collect the project's
# matching rows through the same index as a bitmap and sort them: its choice, by its estimates.
IN_INDEX_ORDER = ("first page", "everyone", "deep page", "newer page")


def event_scans(nodes: list[dict]) -> list[dict]:
    """The plan's reads of the events: of the table, or on PostgreSQL of the day partitions that
    hold rows (an empty partition may be read whole, at no cost)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT tableoid::regclass::text FROM projects_event")
        holding = {row[0] for row in cursor.fetchall()}
    return [n for n in nodes if n.get("Relation Name") in holding]


def planned_query(workload, name: str) -> dict[str, str]:
    if name == "deep page":
        return {"older": deep_cursor(workload)}
    if name == "newer page":
        return {"newer": deep_cursor(workload)}
    return PLANNED[name]


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize("name", [name for name in PLANNED if name != "pre-order"])
def test_every_signup_read_starts_from_the_project_index(owner_client, workload, name):
    sqls = signup_queries(owner_client, list_url(workload, **planned_query(workload, name)))
    assert len(sqls) == 2  # the page's rows and the capped total
    for sql in sqls:
        nodes, _ = plan_nodes(sql)
        summary = [(n["Node Type"], n.get("Relation Name"), n.get("Index Name")) for n in nodes]
        scans = [n for n in nodes if n.get("Relation Name") == "projects_signup"]
        assert scans and all(n["Node Type"] != "Seq Scan" for n in scans), summary
        assert {n.get("Index Name") for n in nodes} >= {"signup_project_created_idx"}, summary
        if name in IN_INDEX_ORDER and f"LIMIT {SIGNUP_PAGE_SIZE + 1}" in sql:
            # The page itself is read in the index's order from the cursor: no sort, however deep.
            assert [n.get("Index Name") for n in scans] == ["signup_project_created_idx"], summary
            assert not any(n["Node Type"] == "Sort" for n in nodes), summary


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_pages_preorders_are_probed_by_the_event_index(owner_client, workload):
    with CaptureQueriesContext(connection) as captured:
        owner_client.get(list_url(workload))
    [sql] = [q["sql"] for q in captured.captured_queries if 'FROM "projects_event"' in q["sql"]]
    nodes, _ = plan_nodes(sql)
    summary = [(n["Node Type"], n.get("Relation Name"), n.get("Index Name")) for n in nodes]
    events = event_scans(nodes)
    assert events, summary
    for node in events:
        index = node.get("Index Name") or ""
        assert index == "event_page_visitor_day_idx" or "page_id_visitor_hash_day" in index, summary


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_preorder_filter_reads_the_projects_events_never_the_whole_table(owner_client, workload):
    """Pre-orders are rare and a signup row does not carry one: the filter hashes the project's
    pre-order visitors (its pages' events, by their page index) and matches the project's
    signups against them, a read of the project's signups rather than of the page (no index
    serves "signups whose visitor pre-ordered")."""
    sqls = signup_queries(owner_client, list_url(workload, preorder="yes"))
    for sql in sqls:
        nodes, _ = plan_nodes(sql)
        summary = [(n["Node Type"], n.get("Relation Name"), n.get("Index Name")) for n in nodes]
        events = event_scans(nodes)
        assert events and all(n["Node Type"] != "Seq Scan" for n in events), summary

"""The workspace's permission matrix: every page and action under /accounts/ and /projects/ (and
the home page), asked by four people: nobody signed in, another founder, a staff member and the
owner of the objects in the URL. The API's matrix (tests/security/test_permission_matrix.py) does
the same for /api/; this one follows it.

Expectations, by the kind of URL (`Kind`):
- PUBLIC (sign-in, sign-up, password reset, the emailed links): anyone gets the page or a
  redirect; never a 500, never the owner's data.
- HOME: a visitor gets the product intro (200), a signed-in user is sent on to their projects.
- OWN (the signed-in user's own scope: the project list, a new project, their account): nobody
  signed in is sent to sign in (GET and POST alike); anyone signed in gets their own, which for
  another founder or staff means nothing of the owner's.
- OBJECT (a URL naming the owner's project, page, version, variant or job): nobody signed in is
  sent to sign in; another founder gets a 404, exactly as for an id that does not exist (never a
  403, which would confirm the id), and so does another founder naming their own project with the
  owner's page, version, variant or job in the rest of the URL; the owner's rows are unchanged
  afterwards. Staff get the same 404 as any founder: the workspace is the founder's own, the
  selectors behind it are scoped to the owner with no staff exception (as the API's are), and
  staff reach founders' data only through the admin. The owner gets the page (200) or, for an
  action, its answer (a redirect, or the form again with its errors): the 404s mean something
  only because the same URL answers its owner.

The URLs come from the URL resolver (`ROUTES`), and `test_every_workspace_route_is_in_the_matrix`
fails for one the table (`MATRIX`) does not list, so a new page is covered as soon as it is
routed, and a row whose URL name no longer resolves fails.
"""

import re
import uuid
from dataclasses import dataclass, field
from enum import Enum
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from jobs.models import Job, JobStatus
from projects import cache as project_cache
from projects.models import (
    Campaign,
    CampaignSpend,
    Experiment,
    LandingPage,
    PageVariant,
    Project,
    Prototype,
    ReportSnapshot,
    Signup,
)
from projects.selectors.reports import project_report
from projects.services.campaigns import campaign_create
from projects.services.experiments import experiment_create_from_page
from projects.services.prototypes import prototype_generate
from projects.services.reports import report_snapshot_create
from projects.services.signups import signup_create
from security.models import User
from tests.factories import ProjectFactory, UserFactory, generate_and_publish

pytestmark = pytest.mark.django_db


class Kind(Enum):
    PUBLIC = "public"
    HOME = "home"
    OWN = "own"
    OBJECT = "object"


@dataclass(frozen=True)
class Row:
    name: str
    method: str  # "get" or "post"
    kind: Kind
    query: str = ""
    htmx: bool = False
    # The owner's answer carries the owner's distinctive data: proof the leak check would see it.
    shows_secret: bool = False
    # Statuses anyone may get from a PUBLIC row.
    public: frozenset[int] = frozenset({200, 302, 303})

    @property
    def id(self) -> str:
        return f"{self.method.upper()} {self.name}{'?' + self.query if self.query else ''}"


PAGE = frozenset({200})
# An action's answer: where to go next, or the form again with its errors (400 or 200).
ACTION = frozenset({200, 202, 204, 302, 303, 400})
# An emailed link with a made-up token: the page saying the link does not work.
BAD_LINK = frozenset({200, 400})

MATRIX = (
    # The home page.
    Row("home", "get", Kind.HOME),
    # Accounts: the public doors.
    Row("login", "get", Kind.PUBLIC),
    Row("logout", "post", Kind.PUBLIC),
    Row("account-signup", "get", Kind.PUBLIC),
    Row("account-signup", "post", Kind.PUBLIC),
    Row("account-signup-sent", "get", Kind.PUBLIC),
    # An emailed link opens a page with a button; the button's POST acts (a made-up token: 400).
    Row("account-confirm", "get", Kind.PUBLIC, public=BAD_LINK),
    Row("account-confirm", "post", Kind.PUBLIC, public=BAD_LINK),
    Row("account-confirm-resend", "get", Kind.PUBLIC),
    Row("account-confirm-resend", "post", Kind.PUBLIC),
    Row("account-email-confirm", "get", Kind.PUBLIC, public=BAD_LINK),
    Row("account-email-confirm", "post", Kind.PUBLIC, public=BAD_LINK),
    Row("password_reset", "get", Kind.PUBLIC),
    Row("password_reset", "post", Kind.PUBLIC),
    Row("password_reset_done", "get", Kind.PUBLIC),
    Row("password_reset_confirm", "get", Kind.PUBLIC, public=BAD_LINK),
    Row("password_reset_complete", "get", Kind.PUBLIC),
    # Accounts: the signed-in user's own.
    Row("account-settings", "get", Kind.OWN, shows_secret=True),
    Row("account-settings", "post", Kind.OWN),
    Row("account-email-change", "get", Kind.OWN),
    Row("account-email-change", "post", Kind.OWN),
    Row("account-password-change", "get", Kind.OWN),
    Row("account-password-change", "post", Kind.OWN),
    Row("account-export", "get", Kind.OWN, query="format=json", shows_secret=True),
    Row("account-export", "get", Kind.OWN, query="format=csv"),  # a zip of CSV files
    Row("account-delete", "get", Kind.OWN),
    Row("account-delete", "post", Kind.OWN),  # no password: refused, nothing deleted
    # Projects.
    Row("project-list", "get", Kind.OWN, shows_secret=True),
    Row("project-create", "get", Kind.OWN),
    Row("project-create", "post", Kind.OWN),  # an empty form: its errors, nothing written
    Row("project-detail", "get", Kind.OBJECT, shows_secret=True),
    Row("project-edit", "get", Kind.OBJECT, shows_secret=True),
    Row("project-edit", "post", Kind.OBJECT),
    Row("project-archive", "get", Kind.OBJECT, shows_secret=True),
    Row("project-archive", "post", Kind.OBJECT),
    # Prototype.
    Row("prototype-list", "get", Kind.OBJECT),
    Row("prototype-generate", "post", Kind.OBJECT),
    Row("prototype-compare", "get", Kind.OBJECT, query="a=1&b=2"),
    Row("prototype-pick", "post", Kind.OBJECT),
    Row("prototype-edit", "get", Kind.OBJECT),
    Row("prototype-edit", "post", Kind.OBJECT),
    Row("prototype-job", "get", Kind.OBJECT, htmx=True),
    # Pages.
    Row("page-create", "post", Kind.OBJECT),
    Row("page-edit", "get", Kind.OBJECT, shows_secret=True),
    Row("page-edit", "post", Kind.OBJECT),
    Row("page-preview", "post", Kind.OBJECT, htmx=True),
    Row("page-preview-frame", "get", Kind.OBJECT, shows_secret=True),
    Row("page-publish", "post", Kind.OBJECT),
    Row("page-unpublish", "post", Kind.OBJECT),
    Row("page-archive", "post", Kind.OBJECT),
    Row("variant-create", "post", Kind.OBJECT),
    Row("variant-edit", "get", Kind.OBJECT),
    Row("variant-edit", "post", Kind.OBJECT),
    Row("variant-preview", "post", Kind.OBJECT, htmx=True),
    Row("variant-delete", "post", Kind.OBJECT),
    # Page assets.
    Row("page-images", "post", Kind.OBJECT),  # no file: refused
    Row("page-qr", "get", Kind.OBJECT),
    # Campaigns.
    Row("campaign-list", "get", Kind.OBJECT, shows_secret=True),
    Row("campaign-create", "get", Kind.OBJECT, shows_secret=True),
    Row("campaign-create", "post", Kind.OBJECT),  # an empty form: its errors, nothing written
    Row("campaign-detail", "get", Kind.OBJECT, shows_secret=True),
    Row("campaign-edit", "get", Kind.OBJECT, shows_secret=True),
    Row("campaign-edit", "post", Kind.OBJECT),
    Row("campaign-start", "post", Kind.OBJECT),
    Row("campaign-pause", "post", Kind.OBJECT),
    Row("campaign-complete", "post", Kind.OBJECT),
    Row("campaign-spend", "post", Kind.OBJECT),  # no day: refused
    Row("campaign-spend-upload", "post", Kind.OBJECT),  # no file: refused
    # Experiments (a page with a variant: the newest such page when no ?page= is given).
    Row("experiment-list", "get", Kind.OBJECT, shows_secret=True),
    Row("experiment-create", "get", Kind.OBJECT, shows_secret=True),
    Row("experiment-create", "post", Kind.OBJECT),  # an empty form: its errors, nothing written
    Row("experiment-plan", "get", Kind.OBJECT, htmx=True),
    Row("experiment-detail", "get", Kind.OBJECT, shows_secret=True),
    Row("experiment-detail", "get", Kind.OBJECT, query="fragment=live", htmx=True),
    Row("experiment-start", "post", Kind.OBJECT),
    Row("experiment-pause", "post", Kind.OBJECT),
    Row("experiment-complete", "post", Kind.OBJECT),
    # Signups.
    Row("signup-list", "get", Kind.OBJECT, shows_secret=True),
    Row("signup-export", "get", Kind.OBJECT, shows_secret=True),
    # Analytics.
    Row("project-analytics", "get", Kind.OBJECT, shows_secret=True),
    Row("project-analytics", "get", Kind.OBJECT, query="fragment=live", htmx=True),
    # The report.
    Row("project-report-page", "get", Kind.OBJECT, shows_secret=True),
    Row("project-report-page", "get", Kind.OBJECT, query="format=csv"),
    Row("project-report-keep", "post", Kind.OBJECT),
    Row("report-snapshot", "get", Kind.OBJECT, shows_secret=True),
    Row("report-compare", "get", Kind.OBJECT, shows_secret=True),
    Row("test-card", "get", Kind.OBJECT, shows_secret=True),
    Row("test-card", "post", Kind.OBJECT),
    Row("glossary", "get", Kind.PUBLIC),
)

SECRET_OWNER_EMAIL = "secret-owner-4b2e@example.com"
SECRET_PROJECT_NAME = "SECRET-PROJECT-4b2e"
SECRET_IDEA = "SECRET-IDEA-4b2e: dog owners cannot find a sitter at short notice on weekends."
SECRET_SLUG = "secret-page-4b2e"
SECRET_SIGNUP_EMAIL = "secret-signup-4b2e@example.com"
SECRETS = (SECRET_OWNER_EMAIL, SECRET_PROJECT_NAME, SECRET_IDEA, SECRET_SLUG, SECRET_SIGNUP_EMAIL)
VARIANT_KEY = "bold"
PREVIEW_TOKEN = "matrix-preview"

_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


# --- discovery (at collection: the real URLconf, whatever a test later sets) ------------------


@dataclass(frozen=True)
class Route:
    name: str
    route: str  # "projects/<int:pk>/edit"
    converters: dict[str, Any] = field(hash=False)

    @property
    def params(self) -> list[str]:
        return [m["name"] for m in _PARAM.finditer(self.route)]


def _walk(patterns, prefix: str = "", converters: dict | None = None):
    for entry in patterns:
        found = {**(converters or {}), **getattr(entry.pattern, "converters", {})}
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            if entry.namespace is None:  # namespaced includes (public:, admin:) are not the workspace's
                yield from _walk(entry.url_patterns, route, found)
        elif isinstance(entry, URLPattern):
            yield entry.name, route, found


def _is_workspace(route: str) -> bool:
    return route == "" or route.startswith(("accounts/", "projects/"))


def _discover() -> dict[str, Route]:
    """The workspace's routes by name. A name the API uses too (prototype-list, signup-list)
    stands for the page here: only routes under the workspace's prefixes are read."""
    routes: dict[str, Route] = {}
    for name, route, converters in _walk(get_resolver("mvpvalidator.urls").url_patterns):
        if _is_workspace(route):
            routes.setdefault(name or f"<unnamed /{route}>", Route(name or "", route, converters))
    return routes


ROUTES = _discover()
# Path parameters that name an object by a global id (not one numbered within its project).
GLOBAL_IDS = ("page_pk", "job_id", "campaign_pk", "snapshot_pk", "exp_pk")


def _case(row: Row):
    return pytest.param(row, id=row.id)


def _names_a_global_id(row: Row) -> bool:
    return row.name not in ROUTES or bool(set(GLOBAL_IDS) & set(ROUTES[row.name].params))


CASES = [_case(row) for row in MATRIX]
MIXED_CASES = [_case(row) for row in MATRIX if row.kind is Kind.OBJECT and _names_a_global_id(row)]


def _route(row: Row) -> Route:
    route = ROUTES.get(row.name)
    if route is None:
        pytest.fail(f"the matrix lists {row.name!r} but no workspace URL has that name")
    return route


def _signed_in_home(row: Row, url: str, response) -> None:
    """Signed in, the home page sends the founder on to their projects."""
    where = _describe(row, url, response)
    assert response.status_code == 302, where
    assert urlsplit(response["Location"]).path == "/" + ROUTES["project-list"].route, where


# --- the owner's objects and the people asking ------------------------------------------------


@dataclass
class World:
    owner: User
    other: User
    staff: User
    project: Project
    page: LandingPage
    job: Job
    other_project: Project
    campaign: Campaign
    kept_report: ReportSnapshot
    experiment: Experiment

    def value(self, param: str, *, route: str = "", missing: bool = False) -> object:
        """What a path parameter of `route` holds for the owner's objects (or for none at all)."""
        if param == "pk":
            return _unused_pk(Project) if missing else self.project.pk
        if param == "page_pk":
            return _unused_pk(LandingPage) if missing else self.page.pk
        if param == "exp_pk":
            return _unused_pk(Experiment) if missing else self.experiment.pk
        if param == "version":
            return 999 if missing else 1
        if param == "job_id":
            return uuid.uuid4() if missing else self.job.pk
        if param == "campaign_pk":
            return _unused_pk(Campaign) if missing else self.campaign.pk
        if param == "snapshot_pk":
            return _unused_pk(ReportSnapshot) if missing else self.kept_report.pk
        if param == "key" and "/preview/" in route:  # a rendering of the editor's preview
            return "no-such-preview" if missing else PREVIEW_TOKEN
        if param == "key":
            return "no-such-variant" if missing else VARIANT_KEY
        if param == "token":  # an emailed link's token: a made-up one opens nothing
            return "made-up-token"
        if param == "uidb64":  # a password reset link naming the owner, with a made-up token
            return urlsafe_base64_encode(force_bytes(self.owner.pk))
        pytest.fail(f"a workspace URL has a path parameter {param!r} the matrix does not know: add it to World.value")

    def snapshot(self) -> dict[str, list[dict]]:
        return {
            "user": list(User.objects.filter(pk=self.owner.pk).values()),
            "projects": list(Project.objects.filter(owner=self.owner).order_by("pk").values()),
            "prototypes": list(Prototype.objects.filter(project__owner=self.owner).order_by("pk").values()),
            "pages": list(LandingPage.objects.filter(project__owner=self.owner).order_by("pk").values()),
            "variants": list(PageVariant.objects.filter(page__project__owner=self.owner).order_by("pk").values()),
            "signups": list(Signup.objects.filter(project__owner=self.owner).order_by("pk").values()),
            "jobs": list(Job.objects.filter(owner=self.owner).order_by("pk").values()),
            "campaigns": list(Campaign.objects.filter(project__owner=self.owner).order_by("pk").values()),
            "spend": list(CampaignSpend.objects.filter(campaign__project__owner=self.owner).order_by("pk").values()),
        }


def _unused_pk(model) -> int:
    return (model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1_000_000


def _project_with_everything(owner: User, *, name: str, idea: str, slug: str) -> tuple[Project, LandingPage]:
    """A project with two prototype versions, a published page with a variant, and a signup."""
    project = ProjectFactory(owner=owner, name=name, idea_description=idea)
    page = generate_and_publish(project, slug=slug)
    prototype_generate(project=project)  # version 2, for the comparison
    PageVariant.objects.create(page=page, key=VARIANT_KEY, name=name, overrides={"headline": name})
    return project, page


def _preview_rendered(page: LandingPage) -> None:
    """A rendering of the editor's live preview, as the page-preview action leaves it in the
    cache for the preview frame to read (when the pages part is in)."""
    key = getattr(project_cache, "page_preview_key", None)
    if key is not None:
        cache.set(key(page.pk, PREVIEW_TOKEN), f"<!doctype html><title>{SECRET_PROJECT_NAME}</title>", 600)


@pytest.fixture(autouse=True)
def _matrix_settings(settings):
    # Each row sends a handful of requests from 127.0.0.1, many of them 4xx by design: the error
    # burst would block the address half way. Rate limits stay on.
    settings.ERROR_BURST_TO_BLOCK = 10**6


@pytest.fixture(name="world")
def world_fixture() -> World:
    owner = UserFactory(email=SECRET_OWNER_EMAIL)
    project, page = _project_with_everything(owner, name=SECRET_PROJECT_NAME, idea=SECRET_IDEA, slug=SECRET_SLUG)
    signup_create(page=page, email=SECRET_SIGNUP_EMAIL)
    job = Job.objects.create(
        kind="prototype.generate", owner=owner, status=JobStatus.SUCCEEDED, params={"project_id": project.pk},
        result={"prototype": {"headline": SECRET_PROJECT_NAME, "value_proposition": SECRET_IDEA}},
    )  # fmt: skip
    _preview_rendered(page)
    kept = report_snapshot_create(project=project, report=project_report(project=Project.objects.get(pk=project.pk)))
    other = UserFactory()
    other_project, _ = _project_with_everything(
        other, name="Another founder's idea", idea="Someone else's idea, entirely.", slug="another-founders-page"
    )
    return World(
        owner=owner,
        other=other,
        staff=UserFactory(is_staff=True),
        project=project,
        page=page,
        job=job,
        other_project=other_project,
        campaign=campaign_create(
            project=project, name=SECRET_PROJECT_NAME, platform="google", budget="100", utm_campaign="matrix"
        ),
        kept_report=kept,
        experiment=experiment_create_from_page(
            page=page, name=SECRET_PROJECT_NAME, arms={"a": 1, VARIANT_KEY: 1}, coverage=1, minimum_detectable_effect=1
        ),
    )


def _client(user: User | None) -> Client:
    # A view that raises shows up as the 500 a browser would get, in the assertion message.
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    return client


def url_for(row: Row, world: World, *, missing: bool = False, values: dict[str, object] | None = None) -> str:
    route = _route(row)

    def substitute(match: re.Match) -> str:
        name = match["name"]
        value = (values or {}).get(name, world.value(name, route=route.route, missing=missing))
        return str(route.converters[name].to_url(value))

    url = "/" + _PARAM.sub(substitute, route.route)
    return f"{url}?{row.query}" if row.query else url


def _send(client: Client, row: Row, url: str):
    headers = {"HX-Request": "true"} if row.htmx else {}
    if row.method == "post":
        return client.post(url, {}, headers=headers)
    return client.get(url, headers=headers)


def _body(response) -> str:
    if getattr(response, "streaming", False):
        content = b"".join(response.streaming_content)
        response.streaming_content = [content]
    else:
        content = response.content
    return content.decode("utf-8", "replace")


def _describe(row: Row, url: str, response) -> str:
    location = f" (to {response['Location']})" if response.has_header("Location") else ""
    return f"{row.method.upper()} {url} → {response.status_code}{location}: {_body(response)[:400]}"


def _assert_no_secrets(row: Row, url: str, response) -> None:
    text = (" ".join(f"{k}: {v}" for k, v in response.items()) + "\n" + _body(response)).lower()
    leaked = [s for s in SECRETS if s.lower() in text]
    assert not leaked, f"LEAK of the owner's data {leaked}: {_describe(row, url, response)}"


def _assert_sent_to_sign_in(row: Row, url: str, response) -> None:
    where = _describe(row, url, response)
    if row.method == "post" and response.status_code == 403:
        return  # refused outright (a CSRF or permission check before the login redirect): also fine
    assert response.status_code == 302, f"expected a redirect to sign in: {where}"
    target = urlsplit(response["Location"])
    assert target.path == settings.LOGIN_URL, f"expected a redirect to sign in: {where}"
    assert f"next={urlsplit(url).path}".replace("/", "%2F") in target.query.replace("/", "%2F"), where


# --- the matrix -------------------------------------------------------------------------------


def test_discovery_finds_the_workspace():
    assert {"login", "logout", "project-report-page", "project-report-keep", "home"} <= set(ROUTES)


def test_every_workspace_route_is_in_the_matrix():
    listed = {row.name for row in MATRIX}
    unlisted = sorted(f"{name} (/{route.route})" for name, route in ROUTES.items() if name not in listed)
    assert not unlisted, f"workspace URLs the permission matrix does not cover: {unlisted}; add rows to MATRIX"


@pytest.mark.parametrize("row", CASES)
def test_nobody_signed_in(row, world):
    url = url_for(row, world)
    response = _send(_client(None), row, url)
    where = _describe(row, url, response)
    assert response.status_code < 500, f"server error: {where}"
    _assert_no_secrets(row, url, response)
    if row.kind in (Kind.OWN, Kind.OBJECT):
        _assert_sent_to_sign_in(row, url, response)
    elif row.kind is Kind.HOME:
        assert response.status_code == 200, where
    else:
        assert response.status_code in row.public, where


@pytest.mark.parametrize("who", ["other", "staff"])
@pytest.mark.parametrize("row", CASES)
def test_another_founder_and_staff_reach_nothing_of_the_owners(row, who, world):
    person = getattr(world, who)
    client = _client(person)
    before = world.snapshot()
    url = url_for(row, world)
    response = _send(client, row, url)
    where = _describe(row, url, response)
    assert response.status_code < 500, f"server error: {where}"
    _assert_no_secrets(row, url, response)
    if row.kind is Kind.OBJECT:
        assert response.status_code != 403, f"403 confirms the id exists; another's object must be a 404: {where}"
        assert response.status_code == 404, f"expected 404 for the owner's object: {where}"
        missing_url = url_for(row, world, missing=True)
        missing = _send(client, row, missing_url)
        assert missing.status_code == 404, f"an id that does not exist: {_describe(row, missing_url, missing)}"
    elif row.kind is Kind.HOME:
        _signed_in_home(row, url, response)
    elif row.kind is Kind.OWN:
        assert response.status_code in (PAGE if row.method == "get" else ACTION), where
    assert world.snapshot() == before, f"{row.id} by {who} changed the owner's objects"


@pytest.mark.parametrize("row", MIXED_CASES)
def test_another_founders_project_does_not_open_the_owners_objects(row, world):
    """/projects/<their own project>/pages/<the owner's page>/...: a page or job named in the
    URL must belong to the project named before it."""
    client = _client(world.other)
    before = world.snapshot()
    url = url_for(row, world, values={"pk": world.other_project.pk})
    response = _send(client, row, url)
    where = _describe(row, url, response)
    assert response.status_code == 404, f"expected 404 for the owner's object under another project: {where}"
    _assert_no_secrets(row, url, response)
    assert world.snapshot() == before, f"{row.id} changed the owner's objects"


@pytest.mark.parametrize("row", CASES)
def test_the_owner_reaches_every_url_the_matrix_uses(row, world):
    """The 404s above mean something only if the same URL answers its owner."""
    url = url_for(row, world)
    response = _send(_client(world.owner), row, url)
    where = _describe(row, url, response)
    assert response.status_code < 500, f"server error: {where}"
    if row.kind is Kind.HOME:
        _signed_in_home(row, url, response)
    elif row.kind is not Kind.PUBLIC:
        expected = PAGE if row.method == "get" else ACTION
        assert response.status_code in expected, f"expected {sorted(expected)} for the owner: {where}"
    if row.shows_secret:
        # ...and the leak checks above would see the owner's data in it.
        assert any(s.lower() in _body(response).lower() for s in SECRETS), f"no owner's data in: {where}"


def test_the_whole_matrix_in_one_go_leaves_the_owners_objects_untouched(world):
    """Every request of another founder and of staff in sequence (an archive, then a publish, then
    a delete...), then the owner's rows compared: each answer is judged above, this is about what
    is left afterwards."""
    before = world.snapshot()
    people = [_client(None), _client(world.other), _client(world.staff)]
    for row in MATRIX:
        if row.kind is not Kind.OBJECT or row.name not in ROUTES:
            continue
        for client in people:
            _send(client, row, url_for(row, world))
    assert world.snapshot() == before

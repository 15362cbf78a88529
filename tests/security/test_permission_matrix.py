"""The permission matrix: every API endpoint, walked with no token and with another founder's
token, against objects owned by someone else.

The endpoints are discovered from the URL resolver, not listed by hand, so a new endpoint is
covered as soon as it is routed. A new path parameter must be added to `PARAM_OBJECTS` (the
matrix fails loudly until it is), and a new public endpoint to `PUBLIC_ROUTES` with a reason.

Expectations:
- no token: 401 in the JSON error shape, except the public endpoints below;
- another founder: 404 for anything reached through an object id (never 403, never a 400 from
  validation running before the ownership check, and the same answer as for an id that does
  not exist, so ids cannot be probed); 403 for staff endpoints; lists answer empty;
- never a 500, never the other user's project name, slug, idea or signup email in the answer,
  and the other user's rows are exactly as they were afterwards.
"""

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from rest_framework.test import APIClient

from jobs.models import Job, JobStatus
from projects.models import (
    Campaign,
    CampaignSpend,
    Experiment,
    HoldReason,
    LandingPage,
    Project,
    Prototype,
    Signup,
    Variant,
)
from projects.services.campaigns import campaign_create
from projects.services.experiments import experiment_create
from projects.services.signups import held_signup_create, signup_create
from security.models import User
from tests.conftest import bearer
from tests.factories import ProjectFactory, UserFactory, generate_and_publish
from tests.security.test_auth_api import assert_error_shape

pytestmark = pytest.mark.django_db

# Routes outside /api/ that belong in the matrix.
EXTRA_ROUTES = {"metrics": "the Prometheus exposition: staff or the scraper token only"}

# Endpoints anyone may call. Each is AllowAny in its view; none may answer with another
# user's data.
PUBLIC_ROUTES = {
    "api/auth/register": "creates an account (RegisterView: AllowAny, no authentication)",
    "api/auth/token": "email + password for tokens (simplejwt TokenObtainPairView: AllowAny)",
    "api/auth/token/refresh": "the refresh token is the credential (simplejwt TokenRefreshView: AllowAny)",
    "api/monitoring/health": "load balancer probe; non-staff see only the overall status (HealthView: AllowAny)",
    "api/monitoring/live": "liveness probe, touches nothing (LiveView: AllowAny)",
    "api/schema/": "the OpenAPI document (drf-spectacular SERVE_PERMISSIONS: AllowAny, SERVE_PUBLIC)",
    "api/docs/": "Swagger UI over the schema (drf-spectacular SERVE_PERMISSIONS: AllowAny)",
}

# Staff only, through the staff endpoints: a founder's token is refused with 403.
STAFF_PREFIXES = ("api/monitoring/", "metrics")

# Path parameter → which of the other user's objects it names: by (segment before the
# parameter, parameter name), then by parameter name alone.
PARAM_OBJECTS = {
    ("projects", "pk"): "project",
    ("landing-pages", "pk"): "landing_page",
    ("prototypes", "pk"): "prototype",
    ("signups", "pk"): "signup",
    ("blocked-ips", "ip"): "address",
    ("experiments", "pk"): "experiment",
    ("campaigns", "pk"): "campaign",
    ("jobs", "pk"): "job",
}
PARAM_NAMES = {
    "project_id": "project",
    "page_id": "landing_page",
    "landing_page_id": "landing_page",
    "prototype_id": "prototype",
    "signup_id": "signup",
    "experiment_id": "experiment",
}

BODY_METHODS = {"post", "put", "patch", "delete"}

SECRET_OWNER_EMAIL = "secret-owner-7f3a@example.com"
SECRET_PROJECT_NAME = "SECRET-PROJECT-7f3a"
SECRET_IDEA = "SECRET-IDEA-7f3a: freelancers lose hours chasing late invoices every single month."
SECRET_SLUG = "secret-page-7f3a"
SECRET_SIGNUP_EMAIL = "secret-signup-7f3a@example.com"
SECRETS = (SECRET_OWNER_EMAIL, SECRET_PROJECT_NAME, SECRET_IDEA, SECRET_SLUG, SECRET_SIGNUP_EMAIL)

_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


# --- discovery (runs at collection: pytest-django has configured settings by then) -----------


@dataclass(frozen=True)
class Endpoint:
    route: str  # the full route, "api/projects/<int:pk>/"
    callback: Any
    converters: dict[str, Any]

    @property
    def params(self) -> list[str]:
        return [m["name"] for m in _PARAM.finditer(self.route)]

    @property
    def methods(self) -> list[str]:
        view_class = getattr(self.callback, "view_class", None)
        if view_class is None:  # a function view: no way to ask, try the two that matter
            return ["get", "post"]
        return [m for m in view_class.http_method_names if hasattr(view_class, m)]

    @property
    def kind(self) -> str:
        if self.route in PUBLIC_ROUTES:
            return "public"
        if self.route.startswith(STAFF_PREFIXES):
            return "staff"
        if self.params:
            return "object"
        return "own"


def _walk(patterns, prefix: str = "", converters: dict | None = None):
    for entry in patterns:
        found = {**(converters or {}), **getattr(entry.pattern, "converters", {})}
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, route, found)
        elif isinstance(entry, URLPattern):
            yield Endpoint(route=route, callback=entry.callback, converters=found)


def _discover() -> list[Endpoint]:
    # The last API patterns answer every unknown URL with the JSON 404 (tests/test_api_errors.py):
    # not endpoints.
    from mvpvalidator.views import api_not_found

    return [
        e
        for e in _walk(get_resolver().url_patterns)
        if (e.route.startswith("api/") or e.route in EXTRA_ROUTES) and e.callback is not api_not_found
    ]


ENDPOINTS = _discover()
CASES = [pytest.param(e, m, id=f"{m.upper()} /{e.route}") for e in ENDPOINTS for m in e.methods]
OBJECT_GETS = [
    pytest.param(e, "get", id=f"GET /{e.route}") for e in ENDPOINTS if e.kind == "object" and "get" in e.methods
]


# --- the other user's objects -----------------------------------------------------------------


@dataclass(frozen=True)
class Foreign:
    owner: User
    project: Project
    landing_page: LandingPage
    prototype: Prototype
    signup: Signup
    experiment: Experiment
    campaign: Campaign
    job: Job

    def value(self, name: str, *, missing: bool = False) -> object:
        if name == "address":  # a documentation address (RFC 5737), blocked by no one
            return "203.0.113.78" if missing else "203.0.113.77"
        if name == "job":  # ids are random: a fresh one names no job
            return uuid.uuid4() if missing else self.job.pk
        obj = getattr(self, name)
        return type(obj).objects.order_by("-pk").values_list("pk", flat=True)[0] + 1_000_000 if missing else obj.pk

    def snapshot(self) -> dict[str, list[dict]]:
        return {
            "user": list(User.objects.filter(pk=self.owner.pk).values()),
            "projects": list(Project.objects.filter(owner=self.owner).order_by("pk").values()),
            "landing_pages": list(LandingPage.objects.filter(project__owner=self.owner).order_by("pk").values()),
            "prototypes": list(Prototype.objects.filter(project__owner=self.owner).order_by("pk").values()),
            "signups": list(Signup.objects.filter(project__owner=self.owner).order_by("pk").values()),
            "experiments": list(Experiment.objects.filter(page__project__owner=self.owner).order_by("pk").values()),
            "campaigns": list(Campaign.objects.filter(project__owner=self.owner).order_by("pk").values()),
            "jobs": list(Job.objects.filter(owner=self.owner).order_by("pk").values()),
            "spend": list(CampaignSpend.objects.filter(campaign__project__owner=self.owner).order_by("pk").values()),
            "variants": list(
                Variant.objects.filter(experiment__page__project__owner=self.owner).order_by("pk").values()
            ),
        }


@pytest.fixture(autouse=True)
def _matrix_settings(settings):
    # The whole-matrix test sends two requests per endpoint and method from 127.0.0.1, about a
    # hundred of them 4xx today and more with every endpoint: at the burst (100 4xx a minute)
    # that blocks the address. Rate limits stay on.
    settings.ERROR_BURST_TO_BLOCK = 10**6


@pytest.fixture
def foreign() -> Foreign:
    owner = UserFactory(email=SECRET_OWNER_EMAIL)
    project = ProjectFactory(owner=owner, name=SECRET_PROJECT_NAME, idea_description=SECRET_IDEA)
    page = generate_and_publish(project, slug=SECRET_SLUG)
    signup = signup_create(page=page, email=SECRET_SIGNUP_EMAIL).signup
    held_signup_create(page=page, reason=HoldReason.FAST)  # a form held for its confirm button
    experiment = experiment_create(
        page=page, name=SECRET_PROJECT_NAME, variants=[{"key": "control"}, {"key": "b", "headline": SECRET_IDEA[:100]}]
    )
    campaign = campaign_create(
        project=project, name=SECRET_PROJECT_NAME, platform="google", budget="100", utm_campaign="secret-launch"
    )
    # A finished generation: its result carries the other user's copy.
    job = Job.objects.create(
        kind="prototype.generate", owner=owner, status=JobStatus.SUCCEEDED, params={"project_id": project.pk},
        result={"prototype": {"headline": SECRET_PROJECT_NAME, "value_proposition": SECRET_IDEA}},
    )  # fmt: skip
    return Foreign(
        owner=owner,
        project=project,
        landing_page=page,
        prototype=Prototype.objects.get(project=project),
        signup=signup,
        experiment=experiment,
        campaign=campaign,
        job=job,
    )


def _object_for(endpoint: Endpoint, param: str, at: int) -> str:
    before = endpoint.route[:at].rstrip("/").rsplit("/", 1)[-1]
    name = PARAM_OBJECTS.get((before, param)) or PARAM_NAMES.get(param)
    if name is None:
        pytest.fail(
            f"/{endpoint.route} has a path parameter {param!r} the permission matrix does not know: "
            "add it to PARAM_OBJECTS (and the object to the `foreign` fixture) so the endpoint is tested."
        )
    return name


def _url(endpoint: Endpoint, foreign: Foreign, *, missing: bool = False) -> str:
    def substitute(match: re.Match) -> str:
        name = match["name"]
        if name not in endpoint.converters:
            pytest.fail(f"/{endpoint.route} is a re_path() route: the matrix builds URLs from path() routes only.")
        value = foreign.value(_object_for(endpoint, name, match.start()), missing=missing)
        return str(endpoint.converters[name].to_url(value))

    url = "/" + _PARAM.sub(substitute, endpoint.route)
    assert resolve(url).func is endpoint.callback, f"{url} does not resolve back to /{endpoint.route}"
    return url


def _send(client: APIClient, method: str, url: str):
    if method in BODY_METHODS:
        return getattr(client, method)(url, {}, format="json")
    return getattr(client, method)(url)


def _body(response) -> str:
    if getattr(response, "streaming", False):
        # Read once, keep it for the next look (a stream is consumed by reading).
        content = b"".join(response.streaming_content)
        response.streaming_content = [content]
    else:
        content = response.content
    return content.decode("utf-8", "replace")


def _text(response) -> str:
    headers = " ".join(f"{k}: {v}" for k, v in response.items())
    return f"{headers}\n{_body(response)}"


def _describe(method: str, url: str, response) -> str:
    return f"{method.upper()} {url} → {response.status_code}: {_body(response)[:600]}"


def _assert_no_foreign_data(method: str, url: str, response) -> None:
    text = _text(response).lower()
    leaked = [s for s in SECRETS if s.lower() in text]
    assert not leaked, f"LEAK of the other user's data {leaked}: {_describe(method, url, response)}"


def _assert_sane(method: str, url: str, response) -> None:
    assert response.status_code < 500, f"server error: {_describe(method, url, response)}"
    _assert_no_foreign_data(method, url, response)


def _client(user: User | None = None) -> APIClient:
    # A view that raises must show up as the 500 a client would get, in the assertion message.
    client = APIClient(raise_request_exception=False)
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=bearer(user))
    return client


def _check_anonymous(endpoint: Endpoint, method: str, url: str, response) -> None:
    _assert_sane(method, url, response)
    if endpoint.kind != "public":
        assert response.status_code == 401, f"expected 401 without a token: {_describe(method, url, response)}"
        assert_error_shape(response, 401)


def _check_founder(endpoint: Endpoint, method: str, url: str, response, missing_response) -> None:
    _assert_sane(method, url, response)
    status = response.status_code
    where = _describe(method, url, response)
    if endpoint.kind == "staff":
        assert status == 403, f"expected 403 for a founder on a staff endpoint: {where}"
        assert_error_shape(response, 403)
    elif endpoint.kind == "object":
        # OPTIONS describes the endpoint, never the object: it may answer, but exactly as it
        # does for an id that does not exist.
        if method != "options":
            assert status != 400, f"validation ran before the ownership check (400 instead of 404): {where}"
            assert status != 403, f"403 lets ids be probed; another user's object must be 404: {where}"
            assert status == 404, f"expected 404 for another user's object: {where}"
            assert_error_shape(response, 404, "not_found")
        assert (status, _body(response)) == (missing_response.status_code, _body(missing_response)), (
            f"another user's id answers differently from a missing id ({missing_response.status_code}): {where}"
        )
    elif endpoint.kind == "own":
        assert status in (200, 201, 204, 400), f"unexpected answer on the founder's own scope: {where}"
        body = response.json() if status == 200 and "json" in response.get("Content-Type", "") else None
        if isinstance(body, dict) and "results" in body:
            assert body["results"] == [], f"a founder who owns nothing sees list rows: {where}"


# --- the matrix -------------------------------------------------------------------------------


def test_discovery_finds_the_api():
    routes = {e.route for e in ENDPOINTS}
    assert {"api/projects/", "api/projects/<int:pk>/", "api/landing-pages/<int:pk>/", "metrics"} <= routes
    assert set(PUBLIC_ROUTES) <= routes, f"allow-listed routes no longer exist: {set(PUBLIC_ROUTES) - routes}"


@pytest.mark.parametrize(("endpoint", "method"), CASES)
def test_no_token_is_refused(endpoint, method, foreign):
    url = _url(endpoint, foreign)
    _check_anonymous(endpoint, method, url, _send(_client(), method, url))


@pytest.mark.parametrize(("endpoint", "method"), CASES)
def test_another_founder_reaches_nothing(endpoint, method, foreign, user):
    founder = _client(user)
    before = foreign.snapshot()
    url = _url(endpoint, foreign)
    response = _send(founder, method, url)
    missing = None
    if endpoint.kind == "object":
        missing_url = _url(endpoint, foreign, missing=True)
        missing = _send(founder, method, missing_url)
        assert missing.status_code < 500, f"server error: {_describe(method, missing_url, missing)}"
    _check_founder(endpoint, method, url, response, missing)
    assert foreign.snapshot() == before, f"{method.upper()} {url} changed another user's objects"


@pytest.mark.parametrize(("endpoint", "method"), OBJECT_GETS)
def test_owner_reaches_the_objects_the_matrix_uses(endpoint, method, foreign):
    """The 404s above mean something only if the same URL answers its owner."""
    url = _url(endpoint, foreign)
    response = _send(_client(foreign.owner), method, url)
    assert response.status_code == 200, _describe(method, url, response)
    # ...and the leak check above would see it: the owner's answer carries the distinctive strings.
    assert any(s.lower() in _body(response).lower() for s in SECRETS), _describe(method, url, response)


def test_the_whole_matrix_in_one_go_leaves_the_other_users_objects_untouched(foreign, user):
    """Every foreign request in sequence (an archive then a delete, say), then the rows compared.
    Each answer is judged by the tests above; this one is about what is left afterwards."""
    before = foreign.snapshot()
    anonymous, founder = _client(), _client(user)
    for endpoint in ENDPOINTS:
        for method in endpoint.methods:
            url = _url(endpoint, foreign)
            _send(anonymous, method, url)
            _send(founder, method, url)
    assert foreign.snapshot() == before
    assert Project.objects.get(pk=foreign.project.pk).name == SECRET_PROJECT_NAME
    owner_view = _client(foreign.owner).get(f"/api/projects/{foreign.project.pk}/")
    assert owner_view.status_code == 200
    assert json.loads(owner_view.content)["status"] == before["projects"][0]["status"] == "live"

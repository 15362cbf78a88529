"""Hostile input against every endpoint: the answer is a clear 4xx (or a 2xx where the input is
legitimately acceptable), never a 5xx, in the API's single JSON error shape, and nothing is
half-written.

The endpoints are discovered from the URL resolver (all but admin/ and static files), so a new
endpoint is covered as soon as it is routed. Each is sent, by an authenticated founder who owns
the objects its ids name and anonymously (and by staff on the staff endpoints, which refuse the
others before reading any input): bodies above DATA_UPLOAD_MAX_MEMORY_SIZE, wrong content types,
broken UTF-8 in the body and in the query string, absurd pagination values, and negative and
enormous ids. The XSS corpus goes into every text field the API stores, and must come back
sanitised.
"""

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from rest_framework.test import APIClient

from projects.models import Project
from projects.selectors.reports import project_report
from projects.services.campaigns import campaign_create
from projects.services.experiments import experiment_create
from projects.services.reports import report_snapshot_create
from security.models import User
from security.sanitize import ALLOWED_TAGS
from tests.conftest import bearer
from tests.factories import ProjectFactory, UserFactory, generate_and_publish
from tests.security.xss_payloads import PAYLOADS

pytestmark = pytest.mark.django_db

SKIPPED_PREFIXES = ("admin/", "static/")
STAFF_PREFIXES = ("api/monitoring/", "metrics", "performance-monitor/")
# The first path segment before an `<int:pk>` → which of the founder's objects it names.
PK_OWNERS = {
    "projects": "project",
    "pages": "page",
    "landing-pages": "page",
    "experiments": "experiment",
    "campaigns": "campaign",
    # The workspace's /projects/<pk>/reports/<snapshot_pk>/: a kept report.
    "reports": "snapshot",
    # The workspace's /projects/<pk>/prototype/<version>/...: a version number of the project's copy.
    "prototype": "version",
}
JUNK = "x'\"<svg onload=alert(1)>%00..%2f"
HUGE_ID = 10**30
BODY_METHODS = ("post", "put", "patch", "delete")

_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


@dataclass(frozen=True)
class Endpoint:
    route: str
    callback: Any

    @property
    def methods(self) -> list[str]:
        view_class = getattr(self.callback, "view_class", None) or getattr(self.callback, "cls", None)
        if view_class is None:  # a function view: the two methods every one of them may take
            return ["get", "post"]
        return [m for m in view_class.http_method_names if hasattr(view_class, m) and m not in ("head", "options")]

    @property
    def is_api(self) -> bool:
        # DRF answers these (errors in the JSON shape); the others are pages and forms.
        return self.route.startswith("api/") or self.route == "metrics"

    @property
    def is_staff(self) -> bool:
        return self.route.startswith(STAFF_PREFIXES)


def _walk(patterns, prefix: str = ""):
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, route)
        elif isinstance(entry, URLPattern) and not route.startswith(SKIPPED_PREFIXES):
            yield Endpoint(route=route, callback=entry.callback)


ENDPOINTS = list(_walk(get_resolver().url_patterns))
CASES = [pytest.param(e, m, id=f"{m.upper()} /{e.route}") for e in ENDPOINTS for m in e.methods]
ID_ROUTES = [pytest.param(e, id=f"/{e.route}") for e in ENDPOINTS if "<int:" in e.route]


@dataclass(frozen=True)
class World:
    founder: User
    staff: User
    ids: dict[str, int]
    slug: str

    def url(self, endpoint: Endpoint, *, pk: str | None = None) -> str:
        def substitute(match: re.Match) -> str:
            converter = match["converter"] or "str"
            if converter == "int":
                before = endpoint.route[: match.start()].rstrip("/").rsplit("/", 1)[-1]
                return pk if pk is not None else str(self.ids[PK_OWNERS[before]])
            if converter == "slug":
                return self.slug
            if converter == "uuid":  # junk never reaches the view (the route refuses it): an unknown id
                return str(uuid.uuid4())
            return JUNK.replace("/", "%2F")  # a <str:> never spans a slash

        url = "/" + _PARAM.sub(substitute, endpoint.route)
        if pk is None:
            assert resolve(url.split("?")[0]).func is endpoint.callback, f"{url} does not resolve to /{endpoint.route}"
        return url


@pytest.fixture(autouse=True)
def _hostile_settings(settings):
    # Thousands of refused requests from one address: the global quota, the per-endpoint
    # throttles and the 4xx-burst block would turn the answers under test into 429s and 403s.
    settings.MAX_REQUESTS_PER_HOUR = 10**6
    settings.ERROR_BURST_TO_BLOCK = 10**6
    settings.RATE_LIMITS = dict.fromkeys(settings.RATE_LIMITS, "100000/m")
    settings.API_THROTTLES = {scope: {**rule, "rate": "100000/min"} for scope, rule in settings.API_THROTTLES.items()}


@pytest.fixture
def world() -> World:
    founder = UserFactory()
    project = ProjectFactory(owner=founder)
    page = generate_and_publish(project, slug="hostile-page")
    experiment = experiment_create(page=page, name="Headline", variants=[{"key": "control"}, {"key": "b"}])
    campaign = campaign_create(project=project, name="Launch", platform="google", budget="100", utm_campaign="launch")
    project = Project.objects.get(pk=project.pk)  # the factory leaves the price as the string it was given
    kept = report_snapshot_create(project=project, report=project_report(project=project))
    return World(
        founder=founder,
        staff=UserFactory(is_staff=True),
        ids={
            "project": project.pk,
            "page": page.pk,
            "experiment": experiment.pk,
            "campaign": campaign.pk,
            "snapshot": kept.pk,
            "version": page.prototype.version,
        },
        slug=page.slug,
    )


def _client(user: User | None) -> APIClient:
    # A view that raises must show up as the 500 a client would get, in the assertion message.
    client = APIClient(raise_request_exception=False)
    if user is not None:
        # The API takes the token, the pages (the founder's report, the staff dashboard) the session.
        client.credentials(HTTP_AUTHORIZATION=bearer(user))
        client.force_login(user)
    return client


def _clients(endpoint: Endpoint, world: World) -> dict[str, APIClient]:
    clients = {"anonymous": _client(None), "founder": _client(world.founder)}
    if endpoint.is_staff:
        clients["staff"] = _client(world.staff)
    return clients


def _domain_rows() -> dict[str, int]:
    """Row counts of the domain tables, in one round trip: what a refused request must leave as
    they were."""
    models = [*apps.get_app_config("projects").get_models(), User]
    tables = [connection.ops.quote_name(m._meta.db_table) for m in models]
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {t})" for t in tables))  # noqa: S608 - table names
        counts = cursor.fetchone()
    return {m._meta.label: n for m, n in zip(models, counts, strict=True)}


def _body(response) -> bytes:
    if getattr(response, "streaming", False):
        content = b"".join(response.streaming_content)
        response.streaming_content = [content]
        return content
    return response.content


def _describe(label: str, method: str, url: str, response) -> str:
    return f"[{label}] {method.upper()} {url[:200]} → {response.status_code}: {_body(response)[:400]!r}"


def assert_clear_answer(endpoint: Endpoint, label: str, method: str, url: str, response) -> None:
    where = _describe(label, method, url, response)
    assert response.status_code < 500, f"server error: {where}"
    if endpoint.is_api and response.status_code >= 400:
        assert "application/json" in response.get("Content-Type", ""), f"not the JSON error shape: {where}"
        body = json.loads(_body(response))
        assert set(body) == {"error"}, f"not the JSON error shape: {where}"
        assert {"code", "message", "fields"} <= set(body["error"]), f"not the JSON error shape: {where}"
        assert isinstance(body["error"]["code"], str) and body["error"]["code"], where


def _send(client: APIClient, method: str, url: str, body: bytes = b"", content_type: str = "", **extra):
    return client.generic(method.upper(), url, body, content_type=content_type, **extra)


def _hostile_bodies() -> dict[str, tuple[bytes, str]]:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    oversized_json = b'{"name": "' + b"a" * (limit + 1024) + b'"}'
    boundary = "hostileboundary"
    multipart = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\nIdea\r\n--{boundary}--\r\n'
    ).encode()
    return {
        "oversized JSON": (oversized_json, "application/json"),
        "oversized form": (b"name=" + b"a" * (limit + 1024), "application/x-www-form-urlencoded"),
        "oversized multipart": (
            f'--{boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\n'.encode()
            + b"a" * (limit + 1024)
            + f"\r\n--{boundary}--\r\n".encode(),
            f"multipart/form-data; boundary={boundary}",
        ),
        "text/plain": (b'{"name": "Idea"}', "text/plain"),
        "application/xml": (b"<?xml version='1.0'?><project><name>Idea</name></project>", "application/xml"),
        "multipart": (multipart, f"multipart/form-data; boundary={boundary}"),
        "multipart without boundary": (multipart, "multipart/form-data"),
        "broken UTF-8 JSON": (b'{"name": "\xc3\x28 \xff\xfe \xed\xa0\x80"}', "application/json"),
        "broken UTF-8 form": (b"name=\xc3\x28\xff&email=a%FF%FE@example.com", "application/x-www-form-urlencoded"),
        "truncated JSON": (b'{"name": "Idea", "price_point": ', "application/json"),
        "JSON nested deeply": (b"[" * 100_000 + b"]" * 100_000, "application/json"),
        "JSON not an object": (b'["a", 1, null]', "application/json"),
    }


HOSTILE_QUERIES = {
    "broken UTF-8 percent-encoded": "q=%C3%28&status=%FF%FE&window=%ED%A0%80",
    # WSGI hands the query string over as latin-1 text: the raw bytes 0xC3 0x28 0xFF.
    "broken UTF-8 raw": "q=\xc3(&status=\xff",
    "limit huge": f"limit={10**30}",
    "offset negative": "offset=-1",
    "offset huge": f"offset={10**30}",
    "limit and offset huge": f"limit={10**30}&offset={10**30}",
    "limit negative": "limit=-5",
    "cursor garbage": "cursor=garbage!!&pagination=cursor",
    "cursor base64 garbage": "cursor=ZnVuOnx4eA&pagination=cursor",
    "cursor huge limit": f"pagination=cursor&limit={10**30}",
    "dates absurd": "from=99999-99-99&to=0000-00-00&group_by=%00",
    "minutes huge": f"minutes={10**30}",
}


# Anonymous callers are refused before any input is read on all but the public endpoints: a few
# of the queries show that the refusal holds up, the bodies run in full.
ANONYMOUS_QUERIES = ("broken UTF-8 raw", "offset huge", "cursor garbage")


def _judge(endpoint: Endpoint, what: str, method: str, sent_to: str, response, rows: dict | None) -> dict | None:
    """Assert a clear answer and, for a refused write, unchanged row counts; the counts now."""
    assert_clear_answer(endpoint, what, method, sent_to, response)
    if rows is None:
        return None
    now = _domain_rows()
    if response.status_code >= 400:
        assert now == rows, _describe(f"{what}: refused but wrote", method, sent_to, response)
    return now


@pytest.mark.parametrize(("endpoint", "method"), CASES)
def test_hostile_requests_get_a_clear_answer_and_write_nothing(endpoint, method, world):
    url = world.url(endpoint)
    writes = method in BODY_METHODS
    for label, client in _clients(endpoint, world).items():
        rows = _domain_rows() if writes else None
        for query_label, query in HOSTILE_QUERIES.items():
            if label == "anonymous" and query_label not in ANONYMOUS_QUERIES:
                continue
            response = _send(client, method, url, QUERY_STRING=query)
            rows = _judge(endpoint, f"{label}, {query_label}", method, f"{url}?{query}", response, rows)
        if not writes:
            continue
        for body_label, (body, content_type) in _hostile_bodies().items():
            response = _send(client, method, url, body, content_type)
            rows = _judge(endpoint, f"{label}, {body_label}", method, url, response, rows)
            if body_label.startswith("oversized") and endpoint.is_api and response.status_code == 400:
                # A body this size is refused unread (413), or never read at all (a view that
                # takes no body answers as without one); it is never parsed and judged.
                code = json.loads(_body(response))["error"]["code"]
                assert code not in ("validation_error", "parse_error"), _describe(label, method, url, response)


@pytest.mark.parametrize("endpoint", ID_ROUTES)
@pytest.mark.parametrize("pk", ["-1", "0", str(HUGE_ID), str(2**63), "1e3"])
def test_absurd_ids_are_not_found(endpoint, pk, world):
    url = world.url(endpoint, pk=pk)
    client = _client(world.staff if endpoint.is_staff else world.founder)
    for method in endpoint.methods:
        before = _domain_rows()
        response = _send(client, method, url, b"{}", "application/json")
        assert_clear_answer(endpoint, f"id {pk}", method, url, response)
        # 405: a function view's guessed method (see `Endpoint.methods`) it does not take.
        assert response.status_code in (404, 405), _describe(f"id {pk}", method, url, response)
        assert _domain_rows() == before


@pytest.mark.parametrize(
    ("method", "path"),
    [("post", "/api/projects/"), ("patch", "/api/projects/{project}/"), ("post", "/api/auth/register")],
)
@pytest.mark.parametrize("content_type", ["application/json", "multipart/form-data; boundary=b"])
def test_a_body_above_the_upload_limit_is_refused_unread(method, path, content_type, world):
    url = path.format(**world.ids)
    client = _client(world.founder)
    before = _domain_rows()
    body = b"a" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = _send(client, method, url, body, content_type)
    assert response.status_code in (413, 415), _describe("oversized", method, url, response)
    if content_type == "application/json":
        assert response.status_code == 413
        assert response.json()["error"]["code"] == "request_too_large"
    assert _domain_rows() == before


# --- the XSS corpus ---------------------------------------------------------------------------

_TAG = re.compile(r"<\s*([a-zA-Z][\w:-]*)([^>]*)>?")
# A complete tag. A lone "<" followed by text ("a <b", what "<<script>x//<" leaves) is plain
# text, escaped where it is shown.
_ANY_TAG = re.compile(r"<\s*[a-zA-Z!/?][^<>]*>")
_ACTIVE_ATTRIBUTE = re.compile(
    r"""\son[a-z]+\s*=|(?:href|src|action)\s*=\s*["']?\s*(?:javascript|vbscript|data):""", re.I
)


def _strings(value: Any):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def assert_plain(text: str, where: str) -> None:
    assert not _ANY_TAG.search(text), f"markup survived in a plain-text field: {text!r} ({where})"


def assert_only_allowed_markup(text: str, where: str) -> None:
    for tag, attributes in _TAG.findall(text):
        assert tag.lower() in ALLOWED_TAGS, f"tag <{tag}> survived: {text!r} ({where})"
        assert not _ACTIVE_ATTRIBUTE.search(" " + attributes), f"active attribute survived: {text!r} ({where})"


def _store_and_check(client: APIClient, method: str, url: str, body: dict, *, rich: tuple[str, ...] = ()):
    """Send `body`; a refusal is a 4xx in the error shape, an acceptance comes back sanitised."""
    response = getattr(client, method)(url, body, format="json")
    where = f"{method.upper()} {url} → {response.status_code}: {response.content[:300]!r}"
    assert response.status_code < 500, f"server error: {where}"
    data = response.json()
    if response.status_code >= 400:
        assert set(data) == {"error"} and {"code", "message", "fields"} <= set(data["error"]), where
        return response
    for key, value in data.items():
        for text in _strings(value):
            (assert_only_allowed_markup if key in rich else assert_plain)(text, f"{key}: {where}")
    return response


@pytest.fixture
def founder_client(world) -> APIClient:
    return _client(world.founder)


def test_xss_in_a_new_project_comes_back_plain(founder_client):
    accepted = 0
    for payload in PAYLOADS:
        body = {
            "name": payload[:120],
            "idea_description": f"{payload} freelancers chase late invoices every month"[:2000],
            "target_audience": payload[:200],
            "price_point": "9.00",
            "business_model": "saas",
        }
        accepted += _store_and_check(founder_client, "post", "/api/projects/", body).status_code == 201
    # The corpus is text a founder may legitimately type: most of it is stored, sanitised.
    assert accepted > len(PAYLOADS) // 2


def test_xss_in_a_landing_page_comes_back_sanitised(founder_client, world):
    url = f"/api/landing-pages/{world.ids['page']}/"
    for payload in PAYLOADS:
        body = {
            "headline": payload[:120],
            "subheadline": payload[:240],
            "value_proposition": payload,
            "features": [payload[:140]],
            "cta_text": payload[:60],
            "qualifying_question": payload[:200],
            "pricing_tiers": [{"name": payload[:40], "price": "9", "period": "month", "features": [payload[:140]]}],
        }
        response = _store_and_check(founder_client, "patch", url, body, rich=("value_proposition",))
        assert response.status_code in (200, 400), response.content
    public = founder_client.get(f"/p/{world.slug}/")
    assert public.status_code == 200
    html = public.content.decode()
    assert not [p for p in PAYLOADS if "<" in p and p in html], "a payload is on the public page as sent"


def test_xss_in_experiments_and_campaigns_comes_back_plain(founder_client, world):
    for payload in PAYLOADS:
        experiment = {
            "landing_page_id": world.ids["page"],
            "name": payload[:120],
            "hypothesis": payload[:500],
            "variants": [{"key": "control", "name": payload[:120]}, {"key": "b", "headline": payload[:120]}],
        }
        _store_and_check(founder_client, "post", f"/api/projects/{world.ids['project']}/experiments", experiment)
        campaign = {"name": payload[:120], "platform": "google", "budget": "10", "utm_campaign": payload[:100]}
        _store_and_check(founder_client, "post", f"/api/projects/{world.ids['project']}/campaigns", campaign)


def test_xss_in_a_registration_name_comes_back_plain():
    client = _client(None)
    for n, payload in enumerate(PAYLOADS):
        body = {"email": f"xss{n}@example.com", "password": "correct-horse-battery-staple-9", "name": payload[:150]}
        _store_and_check(client, "post", "/api/auth/register", body)

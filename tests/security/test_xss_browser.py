"""Stored XSS: payloads stored through the API never run where the text is shown.

Every payload of `xss_payloads` is stored through the JSON API in several kinds of text field
(project name, idea and audience; a landing page's headline, subheadline, value proposition,
features, pricing tier names and features, call to action and qualifying question), the pages
are published, and headless Chromium opens each public page and the staff's admin list and
change pages: no dialog may fire and no payload's marker may be set, after load and after every
element was hovered and focused.

The staff performance monitor shows text that visitors and clients choose too, so the corpus is
also stored in the records it shows, through the code that writes them in production wherever
that is cheap: error groups (type, message, route, location: errors logged during a request),
slow-query groups (SQL, call site, plan: rows), blocked addresses (the reason quotes the probed
path: a scanner probing a path full of payloads), security events (path and user agent: the
probe; identifier: a login lockout), an external call's last error, request traces (path, route,
error notes, slow queries), and the landing pages' headlines (the pages with signups today). The
dashboard is checked as served and again after its in-place refresh has swapped the panels, then
the timeline of each request that holds payloads.

The browser check runs twice: as served, with the strict CSP, and with CSP switched off
(`CONTENT_SECURITY_POLICY = None`, which the CSP middleware reads per response; each response is
checked for the header's presence or absence), where a payload that survived sanitising would run
and be seen. CSP is defence in depth; the sanitiser (and template escaping) must hold on its own.
A fast check without a browser reads the stored text back through the API.
"""

import contextlib
import re
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from monitoring import context, external, traces
from monitoring.errors import MAX_MESSAGE_CHARS, log_error
from monitoring.models import ErrorGroup, SlowQueryGroup
from monitoring.panels import SHOWN
from projects.api.pages import LandingPageUpdateSerializer, PricingTierSerializer
from projects.api.projects import ProjectInputSerializer
from projects.models import LandingPage
from projects.services.signups import signup_create
from security.models import BlockedIP, EventKind, SecurityEvent
from security.sanitize import ALLOWED_PROTOCOLS, ALLOWED_TAGS
from tests.browser import (  # noqa: F401 - the fixtures
    assert_no_script_ran,
    browser_page_fixture,
    chromium_browser_fixture,
    unsafe_markup,
)
from tests.conftest import bearer
from tests.factories import UserFactory
from tests.security.xss_payloads import PAYLOADS

# Few pages keep the browser run short: each holds a quarter of the corpus.
PAGES = 4
RICH_FIELDS = frozenset({"value_proposition"})

_PROJECT = ProjectInputSerializer().fields
_PAGE = LandingPageUpdateSerializer().fields
_TIER = PricingTierSerializer().fields


# --- Storing the corpus through the API -------------------------------------------------------


@dataclass
class StoredPage:
    project_id: int
    page_id: int
    slug: str
    name: str = ""
    headline: str = ""
    where: dict[int, list[str]] = field(default_factory=dict)  # payload number -> fields holding it

    @property
    def label(self) -> str:
        return f"project {self.project_id}/page {self.page_id}"

    def note(self, name: str, numbers: list[int]) -> None:
        for n in numbers:
            self.where.setdefault(n, []).append(name)


def _pack(numbers: list[int], limit: int, *, prefix: str = "", start: int = 0) -> tuple[str, list[int]]:
    """As many payloads as fit in `limit` characters after `prefix`, taken from `start` on."""
    text, used = prefix, []
    for n in numbers[start:] + numbers[:start]:
        candidate = f"{text} {PAYLOADS[n]}" if text else PAYLOADS[n]
        if len(candidate) <= limit:
            text, used = candidate, [*used, n]
    return text, used


def _features(numbers: list[int]) -> tuple[list[str], list[int]]:
    """Features items filled in turn, each as full as its length limit allows."""
    items: list[str] = []
    used: list[int] = []
    for n in numbers:
        if items and len(items[-1]) + 1 + len(PAYLOADS[n]) <= _PAGE["features"].child.max_length:
            items[-1] += " " + PAYLOADS[n]
        elif len(items) < _PAGE["features"].max_length:
            items.append(PAYLOADS[n])
        else:
            continue
        used.append(n)
    return items, used


def _call(api: APIClient, method: str, path: str, data: dict | None = None, status: int = 200) -> dict:
    response = getattr(api, method)(path, data, format="json")
    assert response.status_code == status, (path, response.status_code, response.content[:2000])
    return response.json()


def store_corpus(api: APIClient) -> list[StoredPage]:
    """PAGES projects with one published page each; every payload lands in several fields."""
    stored = []
    for k in range(PAGES):
        numbers = list(range(k, len(PAYLOADS), PAGES))
        step = max(1, len(numbers) // 8)
        fields: dict[str, tuple[str, list[int]]] = {
            "name": _pack(numbers, _PROJECT["name"].max_length, prefix=f"XSS corpus {k}:"),
            "target_audience": _pack(numbers, _PROJECT["target_audience"].max_length, start=step),
            "idea_description": (
                f"Idea {k} of the XSS corpus.\n" + "\n".join(PAYLOADS[n] for n in numbers),
                numbers,
            ),
        }
        assert len(fields["idea_description"][0]) <= _PROJECT["idea_description"].max_length
        project = _call(
            api,
            "post",
            "/api/projects/",
            {**{name: text for name, (text, _) in fields.items()}, "price_point": "9.00", "business_model": "saas"},
            status=201,
        )
        _call(api, "post", f"/api/projects/{project['id']}/generate-prototype", status=201)
        page = _call(api, "post", f"/api/projects/{project['id']}/landing-pages", {"slug": f"xss-{k}"}, status=201)
        item = StoredPage(project_id=project["id"], page_id=page["id"], slug=page["slug"], name=project["name"])
        for name, (_, used) in fields.items():
            item.note(f"project.{name}", used)

        content = {
            "headline": _pack(numbers, _PAGE["headline"].max_length, prefix=f"Page {k}:", start=2 * step),
            "subheadline": _pack(numbers, _PAGE["subheadline"].max_length, start=3 * step),
            "value_proposition": (
                f"<p>Page {k} of the XSS corpus</p>\n" + "\n".join(PAYLOADS[n] for n in numbers),
                numbers,
            ),
            "cta_text": _pack(numbers, _PAGE["cta_text"].max_length, prefix=f"Join {k}", start=4 * step),
            "qualifying_question": _pack(numbers, _PAGE["qualifying_question"].max_length, start=5 * step),
            "features": _features(numbers),
        }
        assert len(content["value_proposition"][0]) <= _PAGE["value_proposition"].max_length
        tier_count = _PAGE["pricing_tiers"].max_length
        tiers = []
        for t in range(tier_count):
            name, name_used = _pack(numbers, _TIER["name"].max_length, start=(6 + t) * step)
            tier_features = numbers[t::tier_count]
            assert len(tier_features) <= _TIER["features"].max_length
            tiers.append(
                {
                    "name": name or f"Tier {t}",
                    "price": "9.00",
                    "period": "month",
                    "features": [PAYLOADS[n] for n in tier_features],
                }
            )
            item.note(f"page.pricing_tiers[{t}].name", name_used)
            item.note(f"page.pricing_tiers[{t}].features", tier_features)
        updated = _call(
            api,
            "patch",
            f"/api/landing-pages/{item.page_id}/",
            {**{name: value for name, (value, _) in content.items()}, "pricing_tiers": tiers},
        )
        for name, (_, used) in content.items():
            item.note(f"page.{name}", used)
        item.headline = updated["headline"]
        _call(api, "post", f"/api/landing-pages/{item.page_id}/publish")
        stored.append(item)
    return stored


def test_every_payload_is_stored_in_several_fields_and_every_field_holds_several(db):
    assert len(PAYLOADS) >= 60
    assert len(set(PAYLOADS)) == len(PAYLOADS)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=bearer(UserFactory()))
    stored = store_corpus(api)

    fields_per_payload = {n: [f for page in stored for f in page.where.get(n, [])] for n in range(len(PAYLOADS))}
    assert all(len(fields) >= 3 for fields in fields_per_payload.values()), fields_per_payload
    for page in stored:
        per_field: dict[str, int] = {}
        for fields in page.where.values():
            for name in fields:
                per_field[name] = per_field.get(name, 0) + 1
        short = {"page.cta_text"} | {name for name in per_field if name.endswith("].name")}
        assert len(per_field) == 9 + 2 * _PAGE["pricing_tiers"].max_length, per_field
        assert all(count >= (1 if name in short else 2) for name, count in per_field.items()), per_field


# --- Storing the corpus in what the staff dashboard shows -------------------------------------

# Each incident holds half the corpus: a login lockout, a scanner probe and a request that logged
# errors, ran slow queries and failed an external call. Their error and slow-query groups all fit
# the panels' rows; the probes' and the incidents' requests each get their timeline opened. (Every
# stored field lands in an escaped text context: more incidents would show more payloads in the
# short fields, and cost a second per timeline.)
INCIDENTS = 2
GROUPS_PER_INCIDENT = SHOWN // INCIDENTS
PROBED = "/.env/"  # a scanner path: the probe is an event, the second one blocks the address
_ERROR = {f.name: f.max_length for f in ErrorGroup._meta.get_fields() if getattr(f, "max_length", None)}
_EVENT = {f.name: f.max_length for f in SecurityEvent._meta.get_fields() if getattr(f, "max_length", None)}
_CALL_SITE = SlowQueryGroup._meta.get_field("call_site").max_length


@dataclass
class StoredRecords:
    """The dashboard's records holding the corpus, and the requests whose timelines hold it."""

    request_ids: list[str] = field(default_factory=list)
    where: dict[int, list[str]] = field(default_factory=dict)  # payload number -> fields holding it
    label: str = "dashboard"

    def holds(self, name: str, value: str, numbers: list[int]) -> None:
        """Note the payloads that `value` (as stored, maybe cut short) holds whole."""
        for n in numbers:
            if PAYLOADS[n] in value:
                self.where.setdefault(n, []).append(name)


def _raised_in(filename: str, error: Exception) -> Exception:
    """`error` raised by code in `filename`: its traceback's innermost frame, the error's location."""
    try:
        exec(compile("raise error", filename, "exec"), {"error": error})  # noqa: S102 - a constant statement
    except Exception as raised:  # noqa: BLE001 - it is what was raised
        return raised
    raise AssertionError("not raised")


def _lockout(records: StoredRecords, k: int, numbers: list[int]) -> None:
    """Failed sign-ins as an account named with payloads until it is locked out."""
    identifier, _ = _pack(numbers, _EVENT["identifier"], start=len(numbers) // 3)
    client = Client(REMOTE_ADDR=f"198.51.100.{20 + k}")
    for _ in range(settings.MAX_LOGIN_ATTEMPTS + 1):
        response = client.post("/accounts/login/", {"username": identifier, "password": "not the password"})
    assert response.status_code == 429, response.status_code
    lockout = SecurityEvent.objects.get(kind=EventKind.LOCKOUT, ip=f"198.51.100.{20 + k}")
    records.holds(f"lockout {k} identifier", lockout.identifier, numbers)


def _scanner_probe(records: StoredRecords, k: int, numbers: list[int]) -> str:
    """A scanner probing a path full of payloads, with payloads for its user agent, until it is
    blocked (the block's reason quotes the path). Returns the last probe's request id."""
    path, _ = _pack(numbers, traces.MAX_PATH, prefix=f"{PROBED}{k}")
    agent, _ = _pack(numbers, _EVENT["user_agent"], start=len(numbers) // 2)
    ip = f"198.51.100.{10 + k}"
    client = Client(REMOTE_ADDR=ip, HTTP_USER_AGENT=agent)
    for _ in range(settings.SCANNER_HITS_TO_BLOCK):
        response = client.get(quote(path))
        assert response.status_code == 404, response.status_code
    request_id = response["X-Request-ID"]
    for i, event in enumerate(SecurityEvent.objects.filter(ip=ip).order_by("pk")):
        records.holds(f"probe {k} event {i} ({event.kind}) path", event.path, numbers)
        records.holds(f"probe {k} event {i} ({event.kind}) user agent (not shown)", event.user_agent, numbers)
    records.holds(f"probe {k} block reason", BlockedIP.objects.get(ip=ip).reason, numbers)
    trace = traces.get(request_id)
    assert trace is not None, "a scanner probe's trace is always kept"
    records.holds(f"probe {k} trace path", trace["path"], numbers)
    return request_id


def _incident(records: StoredRecords, k: int, numbers: list[int]) -> str:
    """One request as the monitoring middleware sees it (as in tests/monitoring): its route and
    path, errors logged with `log_error`, slow queries and an external call that failed, all
    holding payloads; then its trace is finished. Returns its request id."""
    request_id = f"xss-corpus-{k}"
    route, _ = _pack(numbers, _ERROR["route"], prefix=f"/corpus/{k}/", start=len(numbers) // 4)
    path, _ = _pack(numbers, traces.MAX_PATH, prefix=f"/corpus/{k}/", start=3 * len(numbers) // 4)
    ctx = context.RequestContext(request_id=request_id, method="GET", route=route, client_ip="198.51.100.30")
    ctx.started = time.perf_counter()
    token = context.start(ctx)
    root = Path(settings.BASE_DIR).resolve()
    try:
        for g in range(GROUPS_PER_INCIDENT):
            share = numbers[g::GROUPS_PER_INCIDENT]
            message = "\n".join(PAYLOADS[n] for n in share)
            assert len(message) <= MAX_MESSAGE_CHARS
            name, _ = _pack(share, _ERROR["exc_type"] - len("xss."), start=1)
            error_type = type("CorpusError", (Exception,), {"__module__": "xss", "__qualname__": name})
            filename, _ = _pack(share, _ERROR["location"] - len(":1 in <module>"), prefix=f"corpus/{k}/{g}", start=2)
            group = log_error(_raised_in(f"{root}/{filename}", error_type(message)))
            assert group is not None and group.last_request_id == request_id
            for attribute in ("exc_type", "message", "location", "sample_traceback"):
                records.holds(f"incident {k} error {g} {attribute}", getattr(group, attribute), share)
            records.holds(f"incident {k} error {g} route", group.route, numbers)

            sql = "SELECT 1 /* " + " ".join(PAYLOADS[n] for n in share) + " */"
            call_site, _ = _pack(share, _CALL_SITE, prefix=f"corpus/{k}/{g}.py:1 in", start=3)
            plan = "\n".join(PAYLOADS[n] for n in reversed(share))
            SlowQueryGroup.objects.create(
                fingerprint=f"{request_id}-{g}", sql=sql, vendor=connection.vendor, total_ms=150, max_ms=150,
                first_seen=timezone.now(), last_seen=timezone.now(), call_site=call_site,
                last_request_id=request_id, plan=plan,
            )  # fmt: skip
            # As the query timer records a slow query on the request, for its trace.
            ctx.slow_queries.append({"sql": sql, "ms": 150.0, "call_site": call_site})
            for what, value in (("sql", sql), ("call site", call_site), ("plan", plan)):
                records.holds(f"incident {k} slow query {g} {what}", value, share)

        with contextlib.suppress(ConnectionError), external.track("openai"):
            raise ConnectionError(" ".join(PAYLOADS[n] for n in numbers))
        traces.finish(ctx, path=path, status=502, ms=250.0)
    finally:
        context.end(token)
    trace = traces.get(request_id)
    assert trace is not None and trace["reason"] == "error"
    records.holds(f"incident {k} trace path", trace["path"], numbers)
    records.holds(f"incident {k} trace route", trace["route"], numbers)
    external_error = next(note["error"] for note in trace["notes"] if note["kind"] == "external")
    records.holds(f"incident {k} external call error", external_error, numbers)
    return request_id


def store_dashboard_records(stored: list[StoredPage]) -> StoredRecords:
    """A signup today on every stored page (the platform panel lists those pages by headline),
    and INCIDENTS incidents. The incidents' requests come last: the newest in the traces list."""
    for item in stored:
        signup_create(
            page=LandingPage.objects.get(pk=item.page_id), email=f"visitor-{item.slug}@example.com",
            consent=True, send_confirmation=False,
        )  # fmt: skip
    records = StoredRecords()
    shares = [list(range(k, len(PAYLOADS), INCIDENTS)) for k in range(INCIDENTS)]
    for k, numbers in enumerate(shares):
        _lockout(records, k, numbers)
        records.request_ids.append(_scanner_probe(records, k, numbers))
    for k, numbers in enumerate(shares):
        records.request_ids.append(_incident(records, k, numbers))
    return records


def test_every_payload_is_stored_in_several_dashboard_records(db, settings):
    settings.TRACE_SAMPLE_RATE = 0
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=bearer(UserFactory()))
    records = store_dashboard_records(store_corpus(api))

    shown = {n: [f for f in fields if "not shown" not in f] for n, fields in records.where.items()}
    assert all(len(shown.get(n, [])) >= 3 for n in range(len(PAYLOADS))), shown
    per_field: dict[str, int] = {}
    for fields in records.where.values():
        for name in fields:
            per_field[name] = per_field.get(name, 0) + 1
    # Per incident: the lockout's identifier; the probe's three events' paths and user agents (two
    # probes, a block), the block's reason and the trace's path; the incident's trace path, route
    # and external error; per group, an error's type, message, location, route and traceback and a
    # slow query's SQL, call site and plan.
    assert len(per_field) == INCIDENTS * (1 + 8 + 3 + GROUPS_PER_INCIDENT * 8), sorted(per_field)
    assert all(count >= 2 for count in per_field.values()), per_field


# --- Reading the stored text back -------------------------------------------------------------

_SCRIPT_TAG = re.compile(r"<\s*script", re.IGNORECASE)
_URL_ATTRIBUTES = frozenset({"href", "src", "action", "formaction", "data", "xlink:href", "background", "poster"})
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):", re.IGNORECASE)


class _Markup(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))


def markup_problems(value: str, *, rich: bool) -> list[str]:
    """What in stored text could run once shown as HTML: a script tag, an inline event handler,
    a script-capable URL, and (in plain fields) any tag at all, (in rich ones) a tag off the list."""
    problems = [f"a script tag: {value[m.start() : m.start() + 60]!r}" for m in _SCRIPT_TAG.finditer(value)]
    parser = _Markup()
    parser.feed(value)
    parser.close()
    for tag, attrs in parser.tags:
        shown = "<" + " ".join([tag, *(f'{name}="{value}"' for name, value in attrs)]) + ">"
        if not rich and tag != "script":
            problems.append(f"markup in a plain-text field: {shown}")
        elif tag not in ALLOWED_TAGS and tag != "script":
            problems.append(f"a tag off the allow-list: {shown}")
        for name, value in attrs:
            scheme = _SCHEME.match(re.sub(r"[\x00-\x20]", "", value or ""))
            if name.startswith("on"):
                problems.append(f"an event handler: {shown}")
            elif name in _URL_ATTRIBUTES and scheme and scheme.group(1).lower() not in ALLOWED_PROTOCOLS:
                problems.append(f"a {scheme.group(1)}: URL: {shown}")
    return problems


def _strings(data, path: str = ""):
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _strings(value, f"{path}.{key}" if path else key)
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _strings(value, f"{path}[{i}]")
    elif isinstance(data, str):
        yield path, data


def test_text_read_back_through_the_api_has_no_markup_that_could_run(auth_api_client):
    stored = store_corpus(auth_api_client)
    problems = []
    for page in stored:
        detail = _call(auth_api_client, "get", f"/api/projects/{page.project_id}/")
        assert detail["landing_pages"] and detail["current_prototype"]
        for path, value in _strings(detail):
            rich = path.rsplit(".", 1)[-1] in RICH_FIELDS
            problems += [f"project {page.project_id} {path}: {p}" for p in markup_problems(value, rich=rich)]
    assert not problems, "\n".join(problems)


# --- In the browser ---------------------------------------------------------------------------

_MARK = re.compile(r"dialog \w+\('(\d+)'\)|window\.__xss = (\d+)")


Stored = list[StoredPage | StoredRecords]


def _explain(error: AssertionError, stored: Stored) -> str:
    """The failure with each payload that ran and the fields it was stored in."""
    lines = [str(error)]
    for match in _MARK.finditer(str(error)):
        n = int(match.group(1) or match.group(2))
        if n < len(PAYLOADS):
            fields = [f"{p.label} {f}" for p in stored for f in p.where.get(n, [])]
            lines.append(f"payload {n} {PAYLOADS[n]!r} was stored in: {', '.join(fields)}")
    return "\n".join(lines)


def _check(page, url: str, *, csp: bool, stored: Stored) -> None:
    response = page.goto(url, wait_until="load")
    assert response is not None and response.status == 200, (url, response and response.status)
    assert ("content-security-policy" in response.headers) is csp, response.headers
    _check_as_it_is(page, stored=stored)


def _check_as_it_is(page, *, stored: Stored) -> None:
    try:
        assert_no_script_ran(page)
    except AssertionError as error:
        raise AssertionError(_explain(error, stored)) from None
    assert not unsafe_markup(page), (page.url, unsafe_markup(page))


def _sign_in(page, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [{"name": name, "value": morsel.value, "url": live_server.url} for name, morsel in client.cookies.items()]
    )


@pytest.fixture(params=[True, False], ids=["with-csp", "csp-off"])
def csp(request, settings):
    if not request.param:
        settings.CONTENT_SECURITY_POLICY = None
    return request.param


@pytest.mark.django_db(transaction=True)
def test_stored_payloads_never_run_on_the_public_page_nor_the_admin(csp, live_server, browser_page):
    founder = UserFactory()
    staff = UserFactory(is_staff=True, is_superuser=True)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=bearer(founder))
    stored = store_corpus(api)

    for item in stored:
        _check(browser_page, f"{live_server.url}/p/{item.slug}/", csp=csp, stored=stored)
        assert browser_page.inner_text("h1").split() == item.headline.split()

    _sign_in(browser_page, live_server, staff)
    admin = f"{live_server.url}/admin/projects"
    _check(browser_page, f"{admin}/project/", csp=csp, stored=stored)
    assert browser_page.locator("#result_list tbody tr").count() == PAGES
    _check(browser_page, f"{admin}/landingpage/", csp=csp, stored=stored)
    for item in stored:
        _check(browser_page, f"{admin}/project/{item.project_id}/change/", csp=csp, stored=stored)
        assert browser_page.input_value("#id_name") == item.name
        _check(browser_page, f"{admin}/landingpage/{item.page_id}/change/", csp=csp, stored=stored)
        assert browser_page.input_value("#id_headline") == item.headline


def _text(page, selector: str) -> list[list[str]]:
    """The words of each element matching `selector`, as shown (whitespace aside)."""
    return [text.split() for text in page.locator(selector).all_inner_texts()]


@pytest.mark.django_db(transaction=True)
def test_stored_payloads_never_run_on_the_staff_dashboard_nor_a_request_timeline(
    csp, live_server, browser_page, settings
):
    # Kept requests are the stored ones (flagged or failed), never a sample of the browser's own.
    settings.TRACE_SAMPLE_RATE = 0
    settings.DASHBOARD_REFRESH_SECONDS = 1
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=bearer(UserFactory()))
    pages = store_corpus(api)
    records = store_dashboard_records(pages)
    stored: Stored = [*pages, records]
    _sign_in(browser_page, live_server, UserFactory(is_staff=True))

    _check(browser_page, f"{live_server.url}/performance-monitor/", csp=csp, stored=stored)
    groups = INCIDENTS * GROUPS_PER_INCIDENT
    assert browser_page.locator("#errors tbody tr").count() == groups
    assert browser_page.locator("#database tbody tr").count() == groups
    assert browser_page.locator("#security tr[data-testid^='blocked-']").count() == INCIDENTS
    # Shown as text, whole: the headlines of the pages with signups today and the blocks' reasons.
    assert sorted(_text(browser_page, "#platform ol a")) == sorted(item.headline.split() for item in pages)
    reasons = [b.reason.split() for b in BlockedIP.objects.all()]
    assert sorted(_text(browser_page, "#security tbody tr[data-testid] td:nth-child(3)")) == sorted(reasons)
    # The in-place refresh swaps in panels rendered again: they are checked once they are in.
    browser_page.wait_for_function("document.getElementById('refresh-status').textContent.startsWith('Updated')")
    _check_as_it_is(browser_page, stored=stored)
    assert browser_page.locator("#errors tbody tr").count() == groups

    for request_id in records.request_ids:
        _check(browser_page, f"{live_server.url}/performance-monitor/requests/{request_id}/", csp=csp, stored=stored)
        trace = traces.get(request_id)
        assert _text(browser_page, "h2 code")[0] == trace["path"].split()


@pytest.mark.parametrize(
    ("markup", "seen_as"),
    [
        ("<img src=x onerror=alert(1)>", "dialog alert('1')"),
        ("<svg onload=window.__xss=2>", "window.__xss = 2 after load"),
        ("<script>document.title='xss'</script>", "document.title = 'xss' after load"),
        ('<div style="margin-top:3000px" onmouseover="alert(4)">below the fold</div>', "dialog alert('4')"),
        ("<input onfocus=alert(5)>", "dialog alert('5')"),
        ("<span hidden onmouseenter=window.__xss=6>hidden</span>", "window.__xss = 6 after hover and focus"),
    ],
    ids=["dialog", "marker", "title", "hover", "focus", "hidden-element"],
)
def test_the_browser_check_sees_script_that_runs(browser_page, markup, seen_as):
    """The check above would fail if a payload ran: each way of running is seen (raw markup,
    no sanitiser, no CSP)."""
    browser_page.set_content(f"<!doctype html><title>t</title><p>{markup}</p>")
    with pytest.raises(AssertionError, match=re.escape(seen_as)):
        assert_no_script_ran(browser_page)


def test_the_browser_check_sees_links_that_run_script_when_clicked(browser_page):
    browser_page.set_content(
        '<a href="https://127.0.0.1/">fine</a><a href=" &#x6A;ava&#x09;script:alert(1)">x</a>'
        "<form><button formaction=javascript:alert(2)>go</button></form>"
    )
    assert unsafe_markup(browser_page) == [
        '<a href=" java\tscript:alert(1)">',
        '<button formaction="javascript:alert(2)">',
    ]

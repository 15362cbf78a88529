"""Stored XSS: payloads stored through the API never run where the text is shown.

Every payload of `xss_payloads` is stored through the JSON API in several kinds of text field
(project name, idea and audience; a landing page's headline, subheadline, value proposition,
features, pricing tier names and features, call to action and qualifying question), the pages
are published, and headless Chromium opens each public page and the staff's admin list and
change pages (the stand-in for the staff dashboard until it exists): no dialog may fire and no
payload's marker may be set, after load and after every element was hovered and focused.

The browser check runs twice: as served, with the strict CSP, and with CSP switched off
(`CONTENT_SECURITY_POLICY = None`, which the CSP middleware reads per response; each response is
checked for the header's presence or absence), where a payload that survived sanitising would run
and be seen. CSP is defence in depth; the sanitiser must hold on its own. A fast check without a
browser reads the stored text back through the API.
"""

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from django.test import Client
from rest_framework.test import APIClient

from projects.api.serializers import LandingPageUpdateSerializer, PricingTierSerializer, ProjectInputSerializer
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


def _explain(error: AssertionError, stored: list[StoredPage]) -> str:
    """The failure with each payload that ran and the fields it was stored in."""
    lines = [str(error)]
    for match in _MARK.finditer(str(error)):
        n = int(match.group(1) or match.group(2))
        if n < len(PAYLOADS):
            fields = [f"project {p.project_id}/page {p.page_id} {f}" for p in stored for f in p.where.get(n, [])]
            lines.append(f"payload {n} {PAYLOADS[n]!r} was stored in: {', '.join(fields)}")
    return "\n".join(lines)


def _check(page, url: str, *, csp: bool, stored: list[StoredPage]) -> None:
    response = page.goto(url, wait_until="load")
    assert response is not None and response.status == 200, (url, response and response.status)
    assert ("content-security-policy" in response.headers) is csp, response.headers
    try:
        assert_no_script_ran(page)
    except AssertionError as error:
        raise AssertionError(_explain(error, stored)) from None
    assert not unsafe_markup(page), (url, unsafe_markup(page))


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

    staff_client = Client()
    staff_client.force_login(staff)
    browser_page.context.add_cookies(
        [{"name": name, "value": morsel.value, "url": live_server.url} for name, morsel in staff_client.cookies.items()]
    )
    admin = f"{live_server.url}/admin/projects"
    _check(browser_page, f"{admin}/project/", csp=csp, stored=stored)
    assert browser_page.locator("#result_list tbody tr").count() == PAGES
    _check(browser_page, f"{admin}/landingpage/", csp=csp, stored=stored)
    for item in stored:
        _check(browser_page, f"{admin}/project/{item.project_id}/change/", csp=csp, stored=stored)
        assert browser_page.input_value("#id_name") == item.name
        _check(browser_page, f"{admin}/landingpage/{item.page_id}/change/", csp=csp, stored=stored)
        assert browser_page.input_value("#id_headline") == item.headline


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

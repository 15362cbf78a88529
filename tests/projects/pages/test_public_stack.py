"""The public pages' own middleware stack (`mvpvalidator.public_stack`, `PUBLIC_MIDDLEWARE`), from
outside through HTTP against a live server: a visitor of /p/<slug>/ still gets the security
headers, the CSP, a request id and the per-address limits (a 429, then a block), and is given no
session or CSRF cookie; the workspace keeps its whole stack (sessions, CSRF refusals); the
founder signed in to the workspace is still recognised on their own page."""

import re
import time

import httpx
import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, reverse

from mvpvalidator.public_stack import MARK
from projects import urls as public_urls
from projects.events.cookies import VISITOR_COOKIE
from projects.forms.public import form_token
from projects.models import Event, EventKind, Signup, Traffic
from security.checks import check_security_configuration
from security.hashing import hash_identifier
from security.models import BlockedIP
from tests.factories import DEFAULT_PASSWORD
from tests.projects.experiments.helpers import BROWSER

pytestmark = pytest.mark.django_db(transaction=True)

WORKSPACE_ONLY = {"sessionid", "csrftoken"}


@pytest.fixture
def site(live_server) -> str:
    return live_server.url.replace("localhost", "127.0.0.1")


def http(site: str, address: str = "127.0.0.20", **headers: str) -> httpx.Client:
    """A browser of its own (own cookie jar) connecting to the site from `address` (each visitor
    its own address on loopback, as the limits and blocks count them)."""
    return httpx.Client(
        base_url=site,
        transport=httpx.HTTPTransport(local_address=address),
        headers={"User-Agent": BROWSER, **headers},
        follow_redirects=False,
    )


def cookie_names(response: httpx.Response) -> set[str]:
    return {value.split("=", 1)[0].strip() for value in response.headers.get_list("set-cookie")}


def assert_security_headers(response: httpx.Response) -> None:
    csp = dict(part.strip().split(" ", 1) for part in response.headers["content-security-policy"].split(";"))
    assert csp["default-src"] == "'none'" and csp["frame-ancestors"] == "'none'" and csp["object-src"] == "'none'"
    assert "'unsafe-inline'" not in csp["script-src"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert response.headers["cross-origin-opener-policy"] == "same-origin"
    assert response.headers["cross-origin-resource-policy"] == "same-origin"
    assert "camera=()" in response.headers["permissions-policy"]


def test_a_visitor_gets_the_headers_and_a_request_id_and_no_session_or_csrf_cookie(site, live_page):
    with http(site) as browser:
        page = browser.get("/p/chaser/")
        echoed = browser.get("/p/chaser/", headers={"X-Request-ID": "from-the-load-balancer-42"})
    assert page.status_code == 200 and b'name="form_token"' in page.content
    assert_security_headers(page)
    assert re.fullmatch(r"[0-9a-f]{32}", page.headers["x-request-id"])
    assert echoed.headers["x-request-id"] == "from-the-load-balancer-42"
    assert cookie_names(page) == {VISITOR_COOKIE}
    assert "cookie" not in page.headers.get("vary", "").lower()  # no session was read
    assert page.headers["cache-control"] == "private, no-store"


def test_a_visitor_signs_up_without_a_session_or_a_csrf_token(site, live_page):
    with http(site) as browser:
        browser.get("/p/chaser/")
        visitor = browser.cookies[VISITOR_COOKIE].partition(".")[0]
        # The form as the page rendered it for this browser a while ago (a person takes seconds).
        token = form_token(visitor_hash=hash_identifier(visitor), issued_at=time.time() - 20)
        form = {"email": "ada@example.com", "name": "Ada", "consent": "on", "website": "", "form_token": token}
        answer = browser.post("/p/chaser/signup", data=form)
        thanks = browser.get(answer.headers["location"])
        # The same form posted from a browser the token was not made for is refused.
        with http(site, "127.0.0.21") as other:
            other.get("/p/chaser/")
            forged = other.post("/p/chaser/signup", data={**form, "email": "eve@example.com"})
    assert answer.status_code == 302 and answer.headers["location"] == "/p/chaser/thanks"
    assert thanks.status_code == 200
    assert_security_headers(answer)
    assert not (cookie_names(answer) | cookie_names(thanks)) & WORKSPACE_ONLY
    assert forged.status_code == 403
    assert list(Signup.objects.values_list("email", flat=True)) == ["ada@example.com"]


def test_the_per_address_limit_refuses_then_blocks_that_address_alone(site, live_page, settings):
    # An hour: a window that turns between the requests (a minute's would, now and then) resets the count.
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "page_view": "2/h"}
    settings.RATE_LIMIT_VIOLATIONS_TO_BLOCK = 2
    with http(site, "127.0.0.70") as hurried, http(site, "127.0.0.71") as other:
        statuses = [hurried.get("/p/chaser/") for _ in range(5)]
        neighbour = other.get("/p/chaser/")
    assert [r.status_code for r in statuses] == [200, 200, 429, 429, 403]
    refused, blocked = statuses[2], statuses[4]
    assert int(refused.headers["retry-after"]) >= 1 and refused.headers["ratelimit-limit"] == "2"
    assert b"Access blocked" in blocked.content
    for response in (refused, blocked):
        assert_security_headers(response)
        assert response.headers["x-request-id"]
    assert BlockedIP.objects.get(ip="127.0.0.70").rule == "rate_limit"
    assert neighbour.status_code == 200


def test_the_workspace_keeps_its_sessions_and_csrf_refusals(site, user):
    with http(site) as browser:
        login_page = browser.get("/accounts/login/")
        assert "csrftoken" in cookie_names(login_page)
        no_token = browser.post("/accounts/login/", data={"username": user.email, "password": DEFAULT_PASSWORD})
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', login_page.content).group(1).decode()
        signed_in = browser.post(
            "/accounts/login/",
            data={"username": user.email, "password": DEFAULT_PASSWORD, "csrfmiddlewaretoken": token},
            headers={"Referer": f"{site}/accounts/login/"},
        )
    assert no_token.status_code == 403 and b"Form expired" in no_token.content  # the CSRF failure page
    assert signed_in.status_code == 302 and "sessionid" in cookie_names(signed_in)


def test_the_signed_in_founder_is_recognised_on_their_page_without_the_session_middleware(site, user, live_page):
    client = Client()
    client.force_login(user)  # the workspace's session, as its sign-in leaves it
    with http(site, Cookie=f"sessionid={client.cookies['sessionid'].value}") as founder:
        own_view = founder.get("/p/chaser/")
    with http(site, "127.0.0.22") as visitor:
        visitor.get("/p/chaser/")
    call_command("flush_events")
    assert own_view.status_code == 200
    # Read, not renewed or written, and the page's answer does not vary by the session cookie.
    assert not cookie_names(own_view) & WORKSPACE_ONLY
    assert "cookie" not in own_view.headers.get("vary", "").lower()
    views = Event.objects.filter(kind=EventKind.VIEW).order_by("id").values_list("traffic", flat=True)
    assert list(views) == [Traffic.FOUNDER, Traffic.HUMAN]


def test_the_emails_confirm_and_unsubscribe_forms_keep_the_csrf_check(site, live_page):
    """Unmarked routes under /p/ go down the whole stack: these forms carry Django's token."""
    path = reverse("public:unsubscribe", kwargs={"slug": "chaser", "token": "not-a-real-token"})
    with http(site) as browser:
        refused = browser.post(path)
    assert refused.status_code == 403 and b"Form expired" in refused.content  # the CSRF failure page


# --- What the stack is made of ------------------------------------------------------------------


def test_a_page_view_runs_no_session_user_messages_or_csrf_middleware_and_the_workspace_does(live_page):
    """The test client goes through the same handler and middleware as gunicorn."""
    visitor = Client().get("/p/chaser/").wsgi_request
    assert not [a for a in ("session", "user", "_messages", "htmx", "csrf_processing_done") if hasattr(visitor, a)]
    assert visitor.resolver_match.url_name == "landing"  # resolved once, by the stack's choice
    workspace = Client().get("/accounts/login/").wsgi_request
    assert all(hasattr(workspace, a) for a in ("session", "user", "_messages", "htmx", "csrf_processing_done"))
    # An unmarked route under the prefix (an email's link) goes down the whole stack too.
    unsubscribe = reverse("public:unsubscribe", kwargs={"slug": "chaser", "token": "x"})
    assert hasattr(Client().get(unsubscribe).wsgi_request, "session")


def test_the_public_stack_keeps_what_a_visitor_needs_and_nothing_of_the_workspace():
    public = django_settings.PUBLIC_MIDDLEWARE
    kept = [m for m in django_settings.MIDDLEWARE if m in public]
    assert kept == public  # the same order as the workspace's
    assert {
        "monitoring.middleware.MonitoringMiddleware",
        "security.csp.CachedCSPMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
        "security.middleware.HeadersMiddleware",
        "django.middleware.security.SecurityMiddleware",
        "security.middleware.SecurityMiddleware",
    } <= set(public)
    for name in ("sessions", ".csrf.", "auth.", "messages", "htmx", "public_stack"):
        assert not [m for m in public if name in m], name


def test_every_route_on_the_public_stack_checks_its_own_token_or_takes_no_form():
    """Django's CSRF check does not run on the public stack: a route there is `csrf_exempt` (its
    form carries the visitor-bound token) or refuses a POST outright."""
    client = Client(enforce_csrf_checks=True)
    marked = [p for p in public_urls.urlpatterns if isinstance(p, URLPattern) and getattr(p.callback, MARK, False)]
    assert {p.name for p in marked} >= {"landing", "track", "signup", "preorder", "thanks", "theme"}
    for pattern in marked:
        if getattr(pattern.callback, "csrf_exempt", False):
            continue
        kwargs = {name: "0a0a0a" if name == "accent" else "chaser" for name in pattern.pattern.converters}
        assert client.post(reverse(f"public:{pattern.name}", kwargs=kwargs)).status_code == 405, pattern.name


def test_a_public_stack_without_the_security_layer_fails_the_deploy_check(settings):
    assert not [m for m in check_security_configuration() if m.id in ("mvp_security.E005", "mvp_security.E007")]
    refusing = "security.middleware.SecurityMiddleware"
    settings.PUBLIC_MIDDLEWARE = [m for m in settings.PUBLIC_MIDDLEWARE if m != refusing]
    [missing] = [m for m in check_security_configuration() if m.id == "mvp_security.E005"]
    assert "PUBLIC_MIDDLEWARE" in missing.msg and refusing in missing.msg

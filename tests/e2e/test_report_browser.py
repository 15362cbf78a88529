"""The founder's demand report in headless Chromium: signed in through the login page, the
report renders its verdict and its charts, with no console error and no CSP violation."""

from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.test import Client

from tests.browser import browser_page_fixture, chromium_browser_fixture, watch  # noqa: F401 - the fixtures
from tests.factories import DEFAULT_PASSWORD, ProjectFactory, UserFactory, generate_and_publish
from tests.projects.conftest import signup_post_data

ARTIFACTS = Path(django_settings.BASE_DIR) / "test-artifacts"


@pytest.mark.django_db(transaction=True)
def test_the_founder_reads_the_report_in_a_browser(live_server, browser_page):
    founder = UserFactory()
    project = ProjectFactory(owner=founder)
    page = generate_and_publish(project, slug="report-demo")
    for n in range(15):
        visitor = Client(HTTP_USER_AGENT="Mozilla/5.0 Chrome/131", REMOTE_ADDR=f"10.6.0.{n + 1}")
        visitor.get(f"/p/{page.slug}/?utm_source=google&utm_medium=cpc")
        if n % 3 == 0:
            visitor.post(f"/p/{page.slug}/signup", signup_post_data(visitor, email=f"b{n}@example.com"))
    call_command("flush_events")

    seen = watch(browser_page)
    url = f"{live_server.url}/projects/{project.pk}/report"
    browser_page.goto(url)
    assert browser_page.url.startswith(f"{live_server.url}/accounts/login/")
    browser_page.fill("#id_username", founder.email)
    browser_page.fill("#id_password", DEFAULT_PASSWORD)
    browser_page.click("button[type=submit]")
    browser_page.wait_for_url(url)
    assert browser_page.inner_text("[data-testid=verdict]") == "not enough data"
    assert browser_page.locator("svg[role=img]").count() >= 2
    for section in ("verdict", "test-card", "funnel", "variants"):
        assert browser_page.locator(f"section#{section}").is_visible(), section
    ARTIFACTS.mkdir(exist_ok=True)
    browser_page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
    assert not seen.csp_violations, seen.csp_violations
    assert not seen.console_errors, seen.console_errors
    assert not seen.page_errors, seen.page_errors

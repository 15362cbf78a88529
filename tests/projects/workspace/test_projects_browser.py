"""The project pages in headless Chromium at a phone's width (375 px) and a desktop's (1280 px):
nothing wider than the screen, no console error, no CSP violation, the focus visible. Screenshots
go to /tmp/shots-b/ (and test-artifacts/) for a person to look at."""

from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client

from projects.services.pages import landing_page_create
from projects.services.projects import project_archive
from projects.services.prototypes import prototype_generate
from tests.browser import chromium_browser_fixture, watch  # noqa: F401 - the fixtures
from tests.factories import ProjectFactory, UserFactory, generate_and_publish

SHOTS = Path("/tmp/shots-b")
ARTIFACTS = Path(django_settings.BASE_DIR) / "test-artifacts" / "workspace-projects"
WIDTHS = {"phone": 375, "desktop": 1280}


def _sign_in(context, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])


def _check(page, seen, name: str, device: str) -> None:
    assert page.evaluate("document.scrollingElement.scrollWidth") <= page.evaluate("innerWidth"), name
    for directory in (SHOTS, ARTIFACTS):
        directory.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(directory / f"{name}-{device}.png"), full_page=True)
    assert not seen.csp_violations, (name, seen.csp_violations)
    assert not seen.console_errors, (name, seen.console_errors)
    assert not seen.page_errors, (name, seen.page_errors)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("device", list(WIDTHS))
def test_project_pages_fit_the_screen_without_errors(live_server, chromium_browser, device):
    founder = UserFactory(name="Ada Founder")
    context = chromium_browser.new_context(
        viewport={"width": WIDTHS[device], "height": 800}, is_mobile=device == "phone"
    )
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        seen = watch(page)

        page.goto(f"{live_server.url}/")
        _check(page, seen, "home", device)
        # The skip link is the first stop of the keyboard and shows where it is.
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip"
        assert page.evaluate("getComputedStyle(document.activeElement).boxShadow") != "none"

        _sign_in(context, live_server, founder)
        page.goto(f"{live_server.url}/projects/")
        assert "Create your first project" in page.inner_text("main")
        _check(page, seen, "list-empty", device)

        # Create with a mistake, see it beside the field, correct it.
        page.click("main a:has-text('Create your first project')")
        page.fill("#id_name", "Invoice Chaser")
        page.fill("#id_idea_description", "too short")
        page.select_option("#id_business_model", "saas")
        page.fill("#id_price_point", "19")
        page.click("main button[type=submit]")
        assert page.get_attribute("#id_idea_description", "aria-invalid") == "true"
        assert "at least 10 characters" in page.inner_text("#id_idea_description_error")
        _check(page, seen, "create-error", device)
        page.fill("#id_idea_description", "A tool that chases late invoices for freelancers, politely.")
        page.click("main button[type=submit]")
        page.wait_for_selector("text=Generate your copy")
        _check(page, seen, "detail-new", device)

        project = founder.projects.get()
        page.goto(f"{live_server.url}/projects/{project.pk}/edit")
        _check(page, seen, "edit", device)

        prototype_generate(project=project)
        page.goto(f"{live_server.url}/projects/{project.pk}/")
        _check(page, seen, "detail-copy", device)
        landing_page_create(project=project, slug=f"draft-{device}")
        page.goto(f"{live_server.url}/projects/{project.pk}/")
        _check(page, seen, "detail-draft", device)

        live = ProjectFactory(owner=founder, name="Plant Pal: watering reminders for busy people")
        generate_and_publish(live, slug=f"plant-pal-{device}")
        page.goto(f"{live_server.url}/projects/{live.pk}/")
        _check(page, seen, "detail-live", device)

        project_archive(project=ProjectFactory(owner=founder, name="Shelved"))
        page.goto(f"{live_server.url}/projects/")
        assert page.locator(".project-card").count() == 2
        _check(page, seen, "list", device)

        page.goto(f"{live_server.url}/projects/{live.pk}/archive")
        _check(page, seen, "archive", device)

        page.goto(f"{live_server.url}/projects/999999/")
        assert "Page not found" in page.inner_text("main")
        # The browser reports the 404 response itself in the console: that is the page's status, not an error.
        seen.console_errors[:] = [e for e in seen.console_errors if "404" not in e]
        _check(page, seen, "404", device)
    finally:
        context.close()

"""The experiment screens in headless Chromium, at a phone's and a desktop's width, by clicking:
the founder opens Experiments, creates an experiment from the page's two variants (the planner
follows the lift typed in), starts it and reads the results; visitors arrive through the public
page, the worker rolls their events up, and the results region changes in place, with no reload.
On every screen: no console error, no CSP violation, axe-core clean. Screenshots go to
/tmp/h/shots/ (when that folder exists) and test-artifacts/experiments/."""

import re
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.test import Client

from projects.forms.public import MIN_FILL_SECONDS
from projects.models import Experiment, ExperimentStatus
from projects.selectors.variants import variant_values
from projects.services.variants import variant_create, variant_update
from tests.browser import assert_axe_clean, assert_no_errors, chromium_browser_fixture, watch  # noqa: F401
from tests.factories import DEFAULT_PASSWORD, ProjectFactory, UserFactory, generate_and_publish
from tests.projects.conftest import signup_post_data
from tests.projects.experiments.helpers import BROWSER

ARTIFACTS = Path(django_settings.BASE_DIR) / "test-artifacts" / "experiments"
SHOTS = Path("/tmp/h/shots")
DEVICES = {
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
    "desktop": {"viewport": {"width": 1280, "height": 900}},
}


def shoot(tab, device: str, name: str) -> None:
    for folder in (ARTIFACTS, SHOTS):
        if folder is ARTIFACTS or folder.is_dir():
            folder.mkdir(parents=True, exist_ok=True)
            prefix = "h1-" if folder is SHOTS else ""
            tab.screenshot(path=str(folder / f"{prefix}experiments-{device}-{name}.png"), full_page=True)


def checked(tab, device: str, name: str, *, expected_status: int | None = None) -> None:
    tab.wait_for_load_state("load")
    assert_no_errors(tab, expected_status=expected_status)
    if expected_status:  # that failed load was by design: later pages are judged on their own
        seen = watch(tab)
        seen.console_errors[:] = [line for line in seen.console_errors if f"status of {expected_status}" not in line]
    assert_axe_clean(tab)
    shoot(tab, device, name)
    assert tab.evaluate("document.scrollingElement.scrollWidth") <= tab.evaluate("innerWidth") + 1


def visit_public_page(live_url: str, slug: str, count: int) -> None:
    """`count` people, each in a browser of their own, open the page; its script's beacon confirms
    them; every third signs up."""
    for i in range(count):
        person = Client(HTTP_USER_AGENT=BROWSER, REMOTE_ADDR=f"10.9.{i // 200}.{i % 200 + 1}")
        assert person.get(f"/p/{slug}/").status_code == 200
        assert person.post(f"/p/{slug}/e", {"k": "beacon"}).status_code == 204
        if i % 3 == 0:
            response = person.post(f"/p/{slug}/signup", signup_post_data(person, email=f"p{i}@example.com"))
            assert response.status_code == 302, response.content[:300]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("device", list(DEVICES))
def test_create_start_and_watch_the_results_change_in_place(live_server, chromium_browser, device, settings):
    settings.ENABLE_RATE_LIMITING = False
    founder = UserFactory()
    project = ProjectFactory(owner=founder, name="Invoice Chaser")
    page = generate_and_publish(project, slug=f"chaser-{device}")
    for name, headline in (("Pain", "Stop chasing invoices by hand"), ("Speed", "Paid in days, not months")):
        variant = variant_create(page=page, name=name)
        values = {**variant_values(page=page, variant=variant), "headline": headline}
        variant_update(variant=variant, name=name, values=values)

    context = chromium_browser.new_context(**DEVICES[device])
    context.set_default_timeout(15_000)
    try:
        tab = context.new_page()
        watch(tab)
        hub = f"{live_server.url}/projects/{project.pk}/"
        tab.goto(hub)
        tab.fill("#id_username", founder.email)
        tab.fill("#id_password", DEFAULT_PASSWORD)
        tab.click("button[type=submit]")
        tab.wait_for_url(hub)

        tab.get_by_role("navigation", name="Project").get_by_role("link", name="Experiments").click()
        tab.wait_for_url(f"{hub}experiments/")
        checked(tab, device, "1-list-empty")

        tab.get_by_role("link", name=re.compile("^New experiment")).click()
        tab.wait_for_url(re.compile(r"/experiments/new\?page=\d+$"))
        checked(tab, device, "2-create")
        tab.fill("#id_name", "Pain or speed")
        tab.fill("#id_hypothesis", "Naming the pain gets more sign-ups than promising speed")
        assert tab.is_checked("input[name=arms][value=b]") and tab.is_checked("input[name=arms][value=c]")
        before = tab.inner_text("[data-testid=plan-per-arm]")
        tab.fill("#id_minimum_detectable_effect", "50")
        tab.press("#id_minimum_detectable_effect", "Tab")  # change: the planner follows (htmx)
        tab.wait_for_function(
            "(before) => document.querySelector('[data-testid=plan-per-arm]').innerText !== before", arg=before
        )
        assert int(tab.inner_text("[data-testid=plan-per-arm]").replace(",", "")) < int(before.replace(",", ""))
        tab.fill("#id_weight_c", "0")  # a weight out of range: the error beside its field
        tab.click("button:has-text('Create the experiment')")
        tab.locator("#id_weight_c ~ .errorlist, #id_weight_c + .errorlist").first.wait_for()
        assert Experiment.objects.count() == 0
        checked(tab, device, "3-create-error", expected_status=400)  # a form with errors is a 400
        tab.fill("#id_weight_c", "50")
        tab.click("button:has-text('Create the experiment')")
        tab.wait_for_url(re.compile(r"/experiments/\d+/$"))
        experiment = Experiment.objects.get()
        assert [v.key for v in experiment.variants.all()] == ["a", "b", "c"]
        assert tab.locator("#planner").is_visible()
        checked(tab, device, "4-draft")

        tab.click("button:has-text('Start')")
        tab.wait_for_url(re.compile(r"/experiments/\d+/$"))
        tab.locator(".messages", has_text="is running").wait_for()
        experiment.refresh_from_db()
        assert experiment.status == ExperimentStatus.RUNNING
        assert tab.inner_text("[data-testid=lead]").startswith("No visitors yet")
        checked(tab, device, "5-running-empty")

        # Visitors through the public page, then the worker's flush and rollup.
        tab.evaluate("window.__notReloaded = true")
        time.sleep(MIN_FILL_SECONDS)  # the signup forms' minimum fill time
        visit_public_page(live_server.url, page.slug, 30)
        call_command("flush_events")
        # live.js asks for the fragment after 20 s (the tab is visible); the region is swapped in place.
        tab.wait_for_function(
            "() => !document.querySelector('[data-testid=lead]').innerText.startsWith('No visitors yet')",
            timeout=40_000,
        )
        assert tab.evaluate("window.__notReloaded") is True
        visitors = sum(
            int(tab.get_attribute(f"data[data-arm={key}][data-field=visitors]", "value")) for key in ("a", "b", "c")
        )
        assert visitors == 30
        assert tab.inner_text("[data-testid=lead]").startswith("Too early: 30 visitors so far.")
        checked(tab, device, "6-running-figures")

        tab.click("button:has-text('Complete')")
        tab.locator("h1", has_text="Complete “Pain or speed”?").wait_for()
        checked(tab, device, "7-confirm-complete")
        tab.click("button:has-text('Complete the experiment')")
        tab.locator(".messages", has_text="is complete").wait_for()
        experiment.refresh_from_db()
        assert experiment.status == ExperimentStatus.COMPLETED

        tab.get_by_role("navigation", name="Project").get_by_role("link", name="Experiments").click()
        tab.wait_for_url(f"{hub}experiments/")
        checked(tab, device, "7-list")
    finally:
        context.close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("device", list(DEVICES))
def test_a_five_arm_experiment_with_traffic_reads_well(live_server, chromium_browser, device):
    """Five arms and thousands of people (seeded as the worker writes them): the lead says who is
    ahead, the bars and the health read on a phone too; a page without variants says how to add one."""
    from decimal import Decimal

    from projects.models import Traffic
    from projects.services.experiments import experiment_create_from_page
    from projects.services.pages import landing_page_create
    from tests.projects.experiments.helpers import add_rollup, expose

    founder = UserFactory()
    project = ProjectFactory(owner=founder, name="Invoice Chaser")
    page = generate_and_publish(project, slug=f"five-{device}")
    landing_page_create(project=project, slug=f"bare-{device}")  # a page with no variant yet
    for name in ("Pain", "Speed", "Price", "Proof"):
        variant = variant_create(page=page, name=name)
        values = {**variant_values(page=page, variant=variant), "headline": f"{name} headline"}
        variant_update(variant=variant, name=name, values=values)
    experiment = experiment_create_from_page(
        page=page,
        name="Five headlines",
        hypothesis="Naming the pain wins",
        arms={"a": 1, "b": 1, "c": 1, "d": 1, "e": 1},
        coverage=Decimal("1"),
        minimum_detectable_effect=Decimal("0.2"),
        start=True,
    )
    for key, (people, signups) in zip("abcde", [(900, 45), (910, 63), (880, 40), (905, 50), (890, 44)], strict=True):
        expose(experiment, key, people, signed_up=signups)
        add_rollup(experiment, key, Traffic.HUMAN, people)
        add_rollup(experiment, key, Traffic.BOT, 20)

    context = chromium_browser.new_context(**DEVICES[device])
    context.set_default_timeout(15_000)
    try:
        tab = context.new_page()
        watch(tab)
        url = f"{live_server.url}/projects/{project.pk}/experiments/{experiment.pk}/"
        tab.goto(url)
        tab.fill("#id_username", founder.email)
        tab.fill("#id_password", DEFAULT_PASSWORD)
        tab.click("button[type=submit]")
        tab.wait_for_url(url)
        assert tab.inner_text("[data-testid=lead]").startswith("Pain is ahead: ")
        assert tab.locator("svg.interval").count() == 5
        checked(tab, device, "8-five-arms")
        tab.goto(f"{live_server.url}/projects/{project.pk}/experiments/")
        assert tab.get_by_role("link", name=re.compile("^Add a variant in the page editor")).count() == 1
        checked(tab, device, "9-list-with-pages")
    finally:
        context.close()

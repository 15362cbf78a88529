"""A paid visitor's pre-order in headless Chromium (issue 22, items 1 and 2): they arrive by the
campaign's tagged link (no utm_medium, an auto-tagged click id), click Buy, leave their email on the
pre-order step, and the signup keeps the visit's first touch, counted paid by the report's channel
and credited by the campaign's summary."""

import re
import time

import pytest
from django.core.management import call_command

from projects.forms.public import MIN_FILL_SECONDS
from projects.models import DailyRollup, Signup
from projects.selectors.campaigns import campaign_summary
from projects.selectors.reports import project_report
from projects.services.campaigns import campaign_create
from projects.services.pages import landing_page_create, landing_page_publish
from projects.services.prototypes import prototype_generate
from tests.browser import browser_page_fixture, chromium_browser_fixture  # noqa: F401 - the fixtures
from tests.factories import ProjectFactory
from tests.projects.experiments.helpers import BROWSER


@pytest.mark.django_db(transaction=True)
def test_a_paid_visitors_preorder_signup_keeps_the_ads_first_touch(live_server, browser_page):
    project = ProjectFactory()
    prototype_generate(project=project)
    page = landing_page_publish(
        page=landing_page_create(project=project, slug="door", cta_kind="preorder", preorder_price="29.00")
    )
    autumn = campaign_create(project=project, name="Autumn", platform="google", budget="200", utm_campaign="autumn")

    # Headless Chromium names itself in its user agent, which the platform counts as a bot; a
    # person's Chromium does not.
    browser_page.context.set_extra_http_headers({"User-Agent": BROWSER})
    browser_page.goto(
        f"{live_server.url}/p/door/?utm_source=google&utm_campaign=autumn&gclid=Cj0-browser",
        referer="https://www.google.com/",
    )
    browser_page.click("form.buy button[type=submit]")
    browser_page.wait_for_url(f"{live_server.url}/p/door/preorder")
    browser_page.fill("#id_email", "buyer@example.com")
    browser_page.check("input[name=consent]")
    time.sleep(MIN_FILL_SECONDS + 0.1)  # a person takes a moment to type
    browser_page.click("section#signup button[type=submit]")
    # The form's action ends in its email field's anchor (errors open there), which the thank-you keeps.
    browser_page.wait_for_url(re.compile(rf"{re.escape(live_server.url)}/p/door/thanks(#.*)?$"))

    signup = Signup.objects.get()
    assert (signup.utm_source, signup.utm_medium, signup.utm_campaign, signup.referrer) == (
        "google",
        "",
        "autumn",
        "https://www.google.com/",
    )
    assert (signup.click_platform, signup.click_id, signup.channel) == ("google", "Cj0-browser", "paid")
    call_command("flush_events")
    summary = campaign_summary(campaign=autumn)
    assert (summary["signups"], summary["preorders"]) == (1, 1)
    rollups = DailyRollup.objects.filter(page=page).values_list(
        "channel", "traffic", "visitors", "signups", "preorders"
    )
    assert list(rollups) == [("paid", "human", 1, 1, 1)]
    project.refresh_from_db()  # the factory's price as the database keeps it (a Decimal)
    inputs = project_report(project=project)["inputs"]
    assert (inputs["signups"], inputs["warm_signups"]) == (1, 0)  # cold: the verdict counts it

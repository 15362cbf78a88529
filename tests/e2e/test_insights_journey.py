"""Issue 24's acceptance journey in headless Chromium, at a desktop's width (1280 px) and a phone's
(390 px), by clicking and typing only. The demo founder (the demo data seeded as `seed_demo` seeds
it) signs in and, on Invoice Chaser:

1. pauses the running demo experiment (one experiment runs on a page at a time), creates a new one
   from the page's two variants and starts it;
2. watches visitors arrive: people, each in a browser of their own with an ordinary user agent,
   open the public page and some pre-order; the worker rolls their events up; the results region of
   the founder's open results page changes in place, with no reload;
3. adds a campaign, builds its tagged link for one ad and copies it;
4. uploads a spend file with bad lines (refused whole, each line named) and then a good one;
5. reads analytics for the last 7 days;
6. keeps the report, lets more visitors arrive, keeps another and compares the two.

On every page, the founder's and the visitors': no console error, no page error, no CSP violation,
and no serious or critical axe-core violation. A screenshot of each page is kept in
test-artifacts/insights-journey/<device>/ (git-ignored), numbered in the journey's order.
"""

import itertools
import re
import shutil
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.utils import timezone

from projects.demo import DEMO_FOUNDER, DEMO_PAGE_PATH, demo_seed
from projects.forms.public import MIN_FILL_SECONDS
from projects.models import Campaign, CampaignSpend, Experiment, ExperimentStatus, ReportSnapshot, Signup
from tests.browser import (  # noqa: F401 - the fixtures
    assert_axe_clean,
    assert_no_errors,
    chromium_browser_fixture,
    watch,
)

pytestmark = pytest.mark.django_db(transaction=True)

ARTIFACTS = Path(django_settings.BASE_DIR) / "test-artifacts" / "insights-journey"
DEVICES = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}
# The visitors' browsers are ordinary ones: a headless browser's own user agent is a bot's, and a
# bot is left out of every figure (projects.events.visit.is_bot).
VISITOR_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
PROJECT = "Invoice Chaser"
EXPERIMENT = "Paid on time or hours back"
CAMPAIGN = "LinkedIn: agency owners"


class Journey:
    """One person's browser through the journey: each page checked and photographed."""

    def __init__(self, browser, device: str, who: str, shots: "itertools.count[int]", **options) -> None:
        self.context = browser.new_context(**DEVICES[device], **options)
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()
        watch(self.page)
        self.folder = ARTIFACTS / device
        self.folder.mkdir(parents=True, exist_ok=True)
        self.who = who
        self.shots = shots  # shared by the founder's and the visitors' browsers: the journey's order

    def check(self, step: str, *, expected_status: int | None = None) -> None:
        """The page as it is now: no error of any kind so far, axe-clean, photographed."""
        self.page.wait_for_load_state("load")
        assert_no_errors(self.page, expected_status=expected_status)
        if expected_status:  # that failed load was by design: later pages are judged on their own
            seen = watch(self.page)
            seen.console_errors[:] = [e for e in seen.console_errors if f"status of {expected_status}" not in e]
        assert_axe_clean(self.page)
        path = self.folder / f"{next(self.shots):02d}-{self.who}-{step}.png"
        self.page.screenshot(path=str(path), full_page=True)

    def close(self) -> None:
        self.context.close()


def _project_nav(page, name: str):
    return page.get_by_role("navigation", name="Project").get_by_role("link", name=name, exact=True)


def _visitors(browser, device: str, shots, base: str, *, count: int, buyers: int, tag: str) -> None:
    """`count` people, each in a browser of their own, open the public page (its script's beacon
    says a person is there); the first `buyers` of them click the call to action and pre-order.
    The first person's pages are checked like the founder's."""
    for i in range(count):
        person = Journey(browser, device, f"visitor{tag}{i}", shots, user_agent=VISITOR_AGENT)
        checked = i == 0
        try:
            public = person.page
            public.goto(f"{base}{DEMO_PAGE_PATH}")
            public.get_by_role("heading", level=1).wait_for()
            public.wait_for_load_state("networkidle")  # the beacon has gone
            if checked:
                person.check("public-page")
            if i < buyers:
                public.locator("form.buy button[type=submit]").click()
                public.wait_for_url(re.compile(r"/preorder"))
                if checked:
                    person.check("preorder")
                public.fill("#id_email", f"buyer-{tag}{i}@example.net")
                public.check("input[name=consent]")
                time.sleep(MIN_FILL_SECONDS + 0.1)  # a person takes a moment to type
                public.click("section#signup button[type=submit]")
                public.wait_for_url(re.compile(r"/thanks"))
                public.get_by_text("Thank you").first.wait_for()
                if checked:
                    person.check("thanks")
            assert_no_errors(public)
        finally:
            person.close()


def _spend_files(tmp_path: Path) -> tuple[Path, Path]:
    today = timezone.now().date()
    days = [today - timedelta(days=n) for n in (3, 2, 1)]
    bad = tmp_path / "spend-bad.csv"
    bad.write_text(
        "date,spend,impressions,clicks\n"
        f"{days[0]},12.50,900,31\n"
        f"{days[1]},twelve,800,20\n"  # line 3: not an amount
        f"not-a-day,8.00,500,12\n"  # line 4: not a date
    )
    good = tmp_path / "spend-good.csv"
    good.write_text(
        "date,spend,impressions,clicks\n"
        + "".join(f"{day},{10 + n}.25,{700 + n},{20 + n}\n" for n, day in enumerate(days))
    )
    return bad, good


@pytest.fixture(autouse=True)
def _served_here(settings, live_server):
    settings.PUBLIC_BASE_URL = live_server.url
    # Every request of the journey comes from 127.0.0.1, the visitors' included.
    settings.ERROR_BURST_TO_BLOCK = 10**6
    settings.ENABLE_RATE_LIMITING = False


@pytest.mark.parametrize("device", list(DEVICES))
def test_a_founder_with_the_demo_data_measures_by_clicking(live_server, chromium_browser, device, tmp_path):
    base = live_server.url
    demo_seed()
    shutil.rmtree(ARTIFACTS / device, ignore_errors=True)  # this run's pictures only
    shots = itertools.count(1)
    founder = Journey(chromium_browser, device, "founder", shots)
    try:
        page = founder.page

        # Sign in by typing into the login form.
        page.goto(f"{base}/projects/")
        page.fill("#id_username", DEMO_FOUNDER.email)
        page.fill("#id_password", DEMO_FOUNDER.password)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/projects/")
        founder.check("projects")
        page.get_by_role("link", name=PROJECT).first.click()
        page.wait_for_url(re.compile(r"/projects/\d+/$"))
        hub = page.url
        founder.check("project")

        # 1. Experiments: the demo's running experiment paused, a new one from both variants, started.
        _project_nav(page, "Experiments").click()
        page.wait_for_url(f"{hub}experiments/")
        founder.check("experiments")
        demo_experiment = Experiment.objects.get(page__slug="invoice-chaser-demo", status=ExperimentStatus.RUNNING)
        page.get_by_role("link", name=re.compile(re.escape(demo_experiment.name))).click()
        page.wait_for_url(re.compile(r"/experiments/\d+/$"))
        founder.check("demo-experiment")
        page.get_by_role("button", name="Pause", exact=True).click()
        page.locator(".messages").first.wait_for()
        demo_experiment.refresh_from_db()
        assert demo_experiment.status == ExperimentStatus.PAUSED
        page.get_by_role("navigation", name="Breadcrumbs").get_by_role("link", name="Experiments").click()
        page.wait_for_url(f"{hub}experiments/")
        page.get_by_role("link", name=re.compile("^New experiment")).first.click()
        page.wait_for_url(re.compile(r"/experiments/new\?page=\d+$"))
        founder.check("experiment-new")
        page.fill("#id_name", EXPERIMENT)
        page.fill("#id_hypothesis", "Promising hours back gets more pre-orders than promising to be paid on time")
        arms = page.locator("input[name=arms]")
        assert arms.count() == 2
        for i in range(2):
            assert arms.nth(i).is_checked()  # both variants, against the page as it is
        page.get_by_role("button", name="Create the experiment").click()
        page.wait_for_url(re.compile(r"/experiments/\d+/$"))
        experiment = Experiment.objects.get(name=EXPERIMENT)
        assert sorted(v.key for v in experiment.variants.all()) == ["a", "b", "c"]
        founder.check("experiment-draft")
        page.get_by_role("button", name="Start", exact=True).click()
        page.locator(".messages", has_text="is running").wait_for()
        experiment.refresh_from_db()
        assert experiment.status == ExperimentStatus.RUNNING
        assert page.inner_text("[data-testid=lead]").startswith("No visitors yet")
        founder.check("experiment-running")
        results_url = page.url

        # 2. Visitors arrive; the worker rolls them up; the results change in place.
        page.evaluate("window.__notReloaded = true")
        _visitors(chromium_browser, device, shots, base, count=6, buyers=2, tag="a")
        call_command("flush_events")
        page.evaluate("document.querySelector('[data-live]').dispatchEvent(new Event('live-refresh'))")
        page.wait_for_function(
            "() => !document.querySelector('[data-testid=lead]').innerText.startsWith('No visitors yet')"
        )
        assert page.evaluate("window.__notReloaded") is True
        assert page.url == results_url
        visitors = sum(int(page.get_attribute(f"data[data-arm={key}][data-field=visitors]", "value")) for key in "abc")
        assert visitors == 6
        signups = sum(
            int(page.get_attribute(f"data[data-arm={key}][data-field=conversions]", "value")) for key in "abc"
        )
        assert signups == 2
        founder.check("experiment-figures")

        # 3. A campaign, its tagged link for one ad, copied.
        founder.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
        _project_nav(page, "Campaigns").click()
        page.wait_for_url(f"{hub}campaigns/")
        founder.check("campaigns")
        page.get_by_role("link", name="New campaign").first.click()
        page.wait_for_url(f"{hub}campaigns/new")
        founder.check("campaign-new")
        page.get_by_label("Name", exact=True).fill(CAMPAIGN)
        page.get_by_label("Ad platform").select_option("linkedin")
        page.get_by_label("Budget").fill("300")
        page.get_by_label("Starts").fill(f"{timezone.now().date() - timedelta(days=7)}")  # its ads ran last week
        assert page.get_by_label("Campaign tag (utm_campaign)").input_value() == "linkedin-agency-owners"
        page.get_by_role("button", name="Create the campaign").click()
        page.wait_for_url(re.compile(r"/campaigns/\d+/$"))
        campaign = Campaign.objects.get(name=CAMPAIGN)
        founder.check("campaign")
        page.get_by_role("button", name="Start", exact=True).click()
        page.get_by_test_id("status").filter(has_text="Active").wait_for()
        campaign.refresh_from_db()
        assert campaign.status == "active"
        page.get_by_label("Ad name (utm_content)").fill("carousel-1")
        page.get_by_role("button", name="Update the link").click()
        page.wait_for_url(re.compile(r"utm_content=carousel-1"))
        link = page.locator("#tagged-link").input_value()
        assert "utm_campaign=linkedin-agency-owners" in link and "utm_content=carousel-1" in link, link
        assert link.startswith(f"{base}{DEMO_PAGE_PATH}"), link
        page.get_by_role("button", name="Copy", exact=True).click()
        page.locator("[data-copy-status=tagged-link]", has_text="Copied").wait_for()
        assert page.evaluate("navigator.clipboard.readText()") == link
        founder.check("campaign-link")

        # 4. Spend from a file: a bad one refused whole, each bad line named; then a good one.
        bad, good = _spend_files(tmp_path)
        page.get_by_label("Spend file (CSV)").set_input_files(str(bad))
        page.get_by_role("button", name="Upload", exact=True).click()
        errors = page.get_by_test_id("file-errors")
        errors.wait_for()
        text = errors.inner_text()
        assert "Nothing was imported" in text
        assert "Line 3" in text and "Line 4" in text and "Line 2" not in text, text
        assert not CampaignSpend.objects.filter(campaign=campaign).exists()
        founder.check("spend-refused", expected_status=400)
        page.get_by_label("Spend file (CSV)").set_input_files(str(good))
        page.get_by_role("button", name="Upload", exact=True).click()
        page.locator(".messages").first.wait_for()
        assert CampaignSpend.objects.filter(campaign=campaign).count() == 3
        assert page.locator("[data-field=days_with_spend]").inner_text() == "3"
        founder.check("spend-imported")

        # 5. Analytics for the last 7 days.
        _project_nav(page, "Analytics").click()
        page.wait_for_url(f"{hub}analytics")
        founder.check("analytics")
        month_visitors = int(
            page.get_by_test_id("summary").locator("[data-figure=visitors]").inner_text()
        )  # the last 30 days
        page.get_by_label("Period").select_option(label="Last 7 days")
        page.get_by_role("button", name="Show", exact=True).click()
        page.wait_for_url(re.compile(r"/analytics\?.*period=7"))
        today = timezone.now().date()
        week = f"{(today - timedelta(days=6)):%-d %b %Y} to {today:%-d %b %Y}"
        assert week in page.get_by_test_id("results-live").inner_text()
        assert 0 < int(page.get_by_test_id("summary").locator("[data-figure=visitors]").inner_text()) < month_visitors
        founder.check("analytics-week")

        # 6. The report kept, more visitors, another kept, the two compared.
        _project_nav(page, "Report").click()
        page.wait_for_url(f"{hub}report")
        founder.check("report")
        kept = page.get_by_test_id("kept-reports").locator("tbody tr")
        kept_before = kept.count()
        assert kept_before == ReportSnapshot.objects.count() == 1  # the demo's, kept a week ago
        page.get_by_role("button", name="Keep this report").click()
        page.wait_for_url(f"{hub}report#snapshots")
        kept.nth(kept_before).wait_for()  # the page says nothing else: the new row is the answer
        assert kept.count() == ReportSnapshot.objects.count() == kept_before + 1
        founder.check("report-kept")
        _visitors(chromium_browser, device, shots, base, count=3, buyers=2, tag="b")
        call_command("flush_events")
        assert Signup.objects.filter(email__startswith="buyer-b").count() == 2
        _project_nav(page, "Report").click()
        page.wait_for_url(f"{hub}report")
        page.get_by_role("button", name="Keep this report").click()
        page.wait_for_url(f"{hub}report#snapshots")
        kept.nth(kept_before + 1).wait_for()
        assert kept.count() == ReportSnapshot.objects.count() == kept_before + 2
        founder.check("report-kept-again")
        page.get_by_test_id("compare-form").get_by_role("button", name="Compare").click()
        page.wait_for_url(re.compile(r"/reports/compare\?"))
        summary = page.get_by_test_id("compare-summary").inner_text()
        # The three counts the new visitors fed, and the demand score worked out from them: it
        # moves by a tenth or stays, as the demo's traffic of the day leaves it near a rounding step.
        changed = set(page.locator("tr.changed").evaluate_all("rows => rows.map(r => r.dataset.key)"))
        counts = {"inputs.visitors", "inputs.signups", "inputs.preorders"}
        assert counts <= changed <= counts | {"report.score"}, changed
        assert summary.endswith(f"{len(changed)} figures changed."), summary
        inputs = page.locator("#diff-inputs")
        for key, difference in (("visitors", "+3"), ("signups", "+2"), ("preorders", "+2")):
            row = inputs.locator(f"tr[data-key='inputs.{key}']")
            assert row.get_attribute("class") == "changed up", key
            assert row.get_by_test_id("change").inner_text().endswith(difference), key
        founder.check("compare")
    except Exception:
        founder.page.screenshot(path=str(founder.folder / "failed.png"), full_page=True)
        raise
    finally:
        founder.close()

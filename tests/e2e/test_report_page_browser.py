"""The founder's report page in headless Chromium at a phone's width (375 px) and a desktop's (1280 px), with every
"statistics" box opened: nothing wider than the screen, no table cut off at a box's edge (on a phone each table
reflows into one card per row), no console error, no CSP violation, and a glossary link that lands on its entry.
Screenshots go to /tmp/report-shots/ (and test-artifacts/) for a person to look at."""

from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from projects.models import Campaign, CampaignSpend, Traffic
from tests.browser import chromium_browser_fixture, watch  # noqa: F401 - the fixtures
from tests.factories import DEFAULT_PASSWORD, ProjectFactory, UserFactory, generate_and_publish
from tests.projects.reports.test_report_page import seed

SHOTS = Path("/tmp/report-shots")
ARTIFACTS = Path(django_settings.BASE_DIR) / "test-artifacts"
WIDTHS = {"phone": 375, "desktop": 1280}

# Elements whose right edge passes the viewport's, outside a box that scrolls on its own.
_OVERFLOWING = """() => {
  const width = window.innerWidth;
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.right <= width + 1) continue;
    let scroller = el.parentElement, inside = false;
    while (scroller && scroller !== document.body) {
      const style = getComputedStyle(scroller);
      if (['auto', 'scroll'].includes(style.overflowX) && scroller.getBoundingClientRect().right <= width + 1) {
        inside = true;
        break;
      }
      scroller = scroller.parentElement;
    }
    if (!inside) out.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}.${el.className}`);
  }
  return out.slice(0, 10);
}"""

# Boxes that hide part of their content to the side (a table cut off at the panel's edge, reachable only by a
# sideways scroll the founder has no reason to try): before, every table on a phone.
_CUT_OFF = """() => {
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    const style = getComputedStyle(el);
    if (!['auto', 'scroll', 'hidden'].includes(style.overflowX) || el.closest('svg')) continue;
    if (el.clientWidth <= 1 && el.clientHeight <= 1) continue;  // a screen reader's 1 px box (a table's headings)
    if (el.scrollWidth > el.clientWidth + 1) {
      out.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}: ${el.scrollWidth} > ${el.clientWidth}`);
    }
  }
  return out;
}"""


def _project(state: str):
    founder = UserFactory()
    project = ProjectFactory(owner=founder, name="Plant Pal")
    page = generate_and_publish(project, slug=f"report-{state}")
    if state == "early":
        seed(page, days_ago=2, rows=[{"views": 60, "visitors": 48, "cta_clicks": 9, "signups": 3}])
    elif state == "unhealthy":
        seed(page, rows=[{"views": 1500, "visitors": 1200, "signups": 40}, {"traffic": Traffic.BOT, "views": 3000}])
    else:
        seed(
            page,
            rows=[
                {"variant": "control", "views": 260, "visitors": 210, "cta_clicks": 40, "signups": 17},
                {"variant": "bold-headline", "views": 250, "visitors": 205, "cta_clicks": 52, "signups": 24},
                {"channel": "email", "views": 40, "visitors": 35, "signups": 9},
            ],
        )
        campaign = Campaign.objects.create(
            project=project, name="Search", platform="google", budget=Decimal("900.00"), utm_campaign="search"
        )
        CampaignSpend.objects.create(
            campaign=campaign, date=page.published_at.date(), spend=Decimal("504.00"), clicks=460
        )
    return founder, project


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("state", ["early", "scored", "unhealthy"])
@pytest.mark.parametrize("device", list(WIDTHS))
def test_the_report_fits_the_screen_without_errors(live_server, chromium_browser, state, device):
    founder, project = _project(state)
    width = WIDTHS[device]
    context = chromium_browser.new_context(viewport={"width": width, "height": 800}, is_mobile=device == "phone")
    try:
        page = context.new_page()
        seen = watch(page)
        url = f"{live_server.url}/projects/{project.pk}/report"
        page.goto(url)
        page.fill("#id_username", founder.email)
        page.fill("#id_password", DEFAULT_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(url)
        verdict = {"early": "not enough data", "scored": "inconclusive", "unhealthy": "unhealthy"}[state]
        assert page.inner_text("[data-testid=verdict]") == verdict
        for summary in page.locator("details summary").all():
            summary.click()
        assert page.evaluate("document.scrollingElement.scrollWidth") <= page.evaluate("innerWidth")
        assert not page.evaluate(_OVERFLOWING), page.evaluate(_OVERFLOWING)
        assert not page.evaluate(_CUT_OFF), page.evaluate(_CUT_OFF)
        # A figure's name leads to its entry in the glossary, which comes into view.
        page.click("#funnel a[href='#g-bot-share']")
        page.wait_for_function("location.hash === '#g-bot-share'")
        box = page.locator("#g-bot-share").bounding_box()
        assert box is not None and 0 <= box["y"] < 800
        for directory in (SHOTS, ARTIFACTS):
            directory.mkdir(parents=True, exist_ok=True)
        page.evaluate("window.scrollTo(0, 0)")
        for directory in (SHOTS, ARTIFACTS):
            page.screenshot(path=str(directory / f"report-{state}-{device}.png"), full_page=True)
        for section in ("verdict", "test-card", "funnel", "variants", "thresholds", "snapshots", "glossary"):
            if page.locator(f"section#{section}").count():
                page.locator(f"section#{section}").screenshot(path=str(SHOTS / f"{state}-{device}-{section}.png"))
        assert not seen.csp_violations, seen.csp_violations
        assert not seen.console_errors, seen.console_errors
        assert not seen.page_errors, seen.page_errors
    finally:
        context.close()

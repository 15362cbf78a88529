"""The founder's report page read as a founder who is not a statistician (issue 22, item 12): the verdict in one
sentence, what it rests on and what to do next, the statistics one click away, a glossary entry behind every figure,
and none of the four defects found with a real browser (a chart at 100 x 100 x the rate, an empty test-card table
under an unhealthy verdict, `POST /api/...` as an instruction, threshold keys and jargon in the reasons)."""

import re
from datetime import timedelta
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.utils import timezone

from projects.models import Campaign, CampaignSpend, DailyRollup, LandingPage, ReportSnapshot, Traffic

pytestmark = pytest.mark.django_db

# What a founder must never read on the page: threshold keys as the API cites them, the score's code names, the
# name of the interval's formula, an API call as an instruction.
JARGON = re.compile(r"\[[a-z_]+(\.[a-z_]+)?\]|signup pull|organic pull|unit economics|wilson|POST /api", re.IGNORECASE)


def seed(page, *, days_ago: int = 10, rows: list[dict]) -> None:
    """The page launched `days_ago` days ago, with these daily rollups (what the worker writes from visits)."""
    LandingPage.objects.filter(pk=page.pk).update(published_at=timezone.now() - timedelta(days=days_ago))
    day = timezone.now().date() - timedelta(days=1)
    for row in rows:
        DailyRollup.objects.create(page=page, day=day, **{"channel": "paid", "traffic": Traffic.HUMAN, **row})


def report_html(user, project) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(f"/projects/{project.pk}/report")
    assert response.status_code == 200
    return response.content.decode()


class _Page(HTMLParser):
    """The page's ids, its glossary links, the text of each section, and whether each figure's name is linked."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.glossary_links: list[str] = []
        self.text: list[str] = []
        self.in_script_or_style = 0
        self.stack: list[tuple[str, dict]] = []
        self.unlinked_figures: list[str] = []
        self._dt: list[str] | None = None
        self._dt_linked = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and (attrs.get("href") or "").startswith("#g-"):
            self.glossary_links.append(attrs["href"][1:])
            if self._dt is not None:
                self._dt_linked = True
        if tag in ("script", "style"):
            self.in_script_or_style += 1
        if tag == "dt" and not attrs.get("id"):  # a figure's name (the glossary's own terms carry ids)
            self._dt, self._dt_linked = [], False

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.in_script_or_style -= 1
        if tag == "dt" and self._dt is not None:
            if not self._dt_linked:
                self.unlinked_figures.append("".join(self._dt))
            self._dt = None

    def handle_data(self, data):
        if not self.in_script_or_style:
            self.text.append(data)
            if self._dt is not None:
                self._dt.append(data)


def parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def section(html: str, section_id: str) -> str:
    match = re.search(rf'<section[^>]*id="{section_id}".*?</section>', html, re.S)
    return match.group(0) if match else ""


def test_the_variant_chart_and_table_show_each_rate_times_100_once(user, project, live_page):
    # Two versions converting 20% and 50%: before, the chart multiplied by 100 twice and read 2000% and 5000%.
    seed(
        live_page,
        rows=[
            {"variant": "a", "views": 120, "visitors": 100, "signups": 20},
            {"variant": "b", "views": 110, "visitors": 100, "signups": 50},
        ],
    )
    html = report_html(user, project)
    variants = section(html, "variants")
    assert "<title>a: 20%</title>" in variants and "<title>b: 50%</title>" in variants
    axis = [int(v) for v in re.findall(r'class="tick"[^>]*>(\d+)%<', variants)]
    assert axis and max(axis) <= 100, axis  # a share of people never passes 100%
    assert "2000%" not in variants and "5000%" not in variants
    assert re.findall(r'data-testid="variant-rate">([^<]+)<', variants) == ["20%", "50%"]
    # The bars' heights follow the rates: b's is 2.5 times a's.
    heights = [float(h) for h in re.findall(r'<rect class="bar"[^>]*height="([0-9.]+)"', variants)]
    assert len(heights) == 2 and heights[1] / heights[0] == pytest.approx(2.5, rel=0.01)
    # With two versions, each one's chance to beat the first and its expected loss are shown and explained.
    assert "Chance to beat" in variants and 'href="#g-chance-to-beat"' in variants
    assert 'href="#g-expected-loss"' in variants


def test_an_unhealthy_verdict_shows_no_empty_statistics_table_and_says_why_in_plain_words(user, project, live_page):
    # Two thirds of the cold traffic is bots, on plenty of views: the counts cannot be trusted.
    seed(
        live_page,
        rows=[
            {"views": 1500, "visitors": 1200, "signups": 40},
            {"traffic": Traffic.BOT, "views": 3000, "visitors": 2500},
        ],
    )
    html = report_html(user, project)
    assert 'data-testid="verdict">unhealthy<' in html
    card = section(html, "test-card")
    verdict = section(html, "verdict")
    # Before: a "Test card and outcome" table with a header row and an empty body.
    assert "<tbody></tbody>" not in html
    assert "<table" not in card and "<table" not in verdict
    headline = re.search(r'data-testid="headline">([^<]+)<', html).group(1)
    assert (
        headline.startswith("The numbers can&#x27;t be trusted yet") and "67% of the visits came from bots" in headline
    )
    steps = re.search(r'data-testid="next-steps">(.*?)</ul>', html, re.S).group(1)
    assert "ad placements" in steps
    text = " ".join(parse(html).text)
    assert not JARGON.search(text), JARGON.search(text)


def test_a_scored_report_keeps_the_statistics_one_click_away_without_keys_or_jargon(user, project, live_page):
    seed(live_page, rows=[{"views": 450, "visitors": 400, "signups": 30}, {"channel": "email", "visitors": 40}])
    campaign = Campaign.objects.create(
        project=project, name="Search", platform="google", budget=Decimal("1000.00"), utm_campaign="search"
    )
    CampaignSpend.objects.create(campaign=campaign, date=timezone.now().date(), spend=Decimal("504.00"), clicks=360)
    html = report_html(user, project)
    verdict = section(html, "verdict")
    assert re.search(r'data-testid="verdict">(validated|not validated|inconclusive)<', verdict)
    # The statistics are in a <details> (one click away), with plain names.
    details = re.search(r'<details class="stats" id="statistics">.*?</details>', verdict, re.S).group(0)
    assert "Cold visitors who signed up" in details and "30 of 400" in details and "7.5%" in details
    assert 'data-testid="rests-on"' in verdict and "400 cold visitors" in verdict
    page = parse(html)
    text = " ".join(page.text)
    assert not JARGON.search(text), JARGON.search(text)
    # Money is written as money, costs included.
    assert "504.00 USD" in section(html, "funnel")


def test_a_cost_without_spend_is_a_dash_not_zero(user, project, live_page):
    seed(live_page, rows=[{"views": 450, "visitors": 400, "signups": 30}])
    funnel = section(report_html(user, project), "funnel")
    cost = re.search(r'href="#g-cost-per-signup">Cost per signup</a></dt><dd>([^<]*)</dd>', funnel)
    assert cost and cost.group(1) == "—"
    assert "0.00 USD" in funnel  # the spend itself is zero and says so


def test_every_figure_links_to_a_glossary_entry_that_exists(user, project, live_page):
    seed(
        live_page,
        rows=[
            {"variant": "a", "views": 250, "visitors": 200, "signups": 16},
            {"variant": "b", "views": 250, "visitors": 200, "signups": 14},
        ],
    )
    campaign = Campaign.objects.create(
        project=project, name="Search", platform="google", budget=Decimal("1000.00"), utm_campaign="search"
    )
    CampaignSpend.objects.create(campaign=campaign, date=timezone.now().date(), spend=Decimal("300.00"), clicks=400)
    html = report_html(user, project)
    page = parse(html)
    assert page.glossary_links, "no glossary links"
    missing = sorted({link for link in page.glossary_links if link not in page.ids})
    assert not missing, missing
    assert not page.unlinked_figures, page.unlinked_figures
    # Each statistic the page shows, linked to its own entry.
    for entry in (
        "g-verdict",
        "g-score",
        "g-conversion-rate",
        "g-confidence-interval",
        "g-chance-to-beat",
        "g-expected-loss",
        "g-chance-above-bar",
        "g-weight",
        "g-bot-share",
        "g-cost-per-signup",
        "g-spend",
        "g-visitors",
        "g-signups",
    ):
        assert entry in page.glossary_links, entry
    # Every sentence of what the verdict rests on links to the figure it turns on.
    facts = re.findall(r"<li>(.*?)</li>", re.search(r'data-testid="rests-on">(.*?)</ul>', html, re.S).group(1))
    assert len(facts) >= 3 and all('class="term-help" href="#g-' in fact for fact in facts), facts
    # Every row of the statistics table names its measure through a glossary link.
    rows = re.findall(r"<tr><td>(.*?)</td>", section(html, "verdict"))
    assert rows and all('class="term" href="#g-' in cell for cell in rows), rows


def test_the_page_offers_a_button_to_keep_the_report_instead_of_an_api_call(user, project, live_page):
    seed(live_page, days_ago=2, rows=[{"views": 30, "visitors": 25, "signups": 2}])
    html = report_html(user, project)
    snapshots = section(html, "snapshots")
    assert "POST" not in snapshots.replace('method="post"', "")
    assert f'action="/projects/{project.pk}/report/keep"' in snapshots
    client = Client()
    client.force_login(user)
    kept = client.post(f"/projects/{project.pk}/report/keep")
    assert kept.status_code == 302 and kept["Location"].endswith(f"/projects/{project.pk}/report#snapshots")
    assert ReportSnapshot.objects.filter(project=project, verdict="not enough data").count() == 1
    assert "not enough data" in section(report_html(user, project), "snapshots")


def test_only_the_owner_can_keep_a_report(project):
    from tests.factories import UserFactory

    stranger = Client()
    stranger.force_login(UserFactory())
    assert stranger.post(f"/projects/{project.pk}/report/keep").status_code == 404
    assert Client().post(f"/projects/{project.pk}/report/keep").status_code == 302  # to the login page
    owner = Client()
    owner.force_login(project.owner)
    assert owner.get(f"/projects/{project.pk}/report/keep").status_code == 405
    assert not ReportSnapshot.objects.filter(project=project).exists()


@pytest.mark.parametrize(
    ("rows", "verdict", "headline"),
    [
        ([{"views": 30, "visitors": 25, "signups": 2}], "not enough data", "Too early to tell"),
        ([{"views": 450, "visitors": 400, "signups": 1}], "not validated", "No: too few cold visitors"),
        ([{"views": 450, "visitors": 400, "signups": 60}], "validated", "Yes: cold visitors want"),
        ([{"views": 500, "visitors": 400}, {"traffic": Traffic.BOT, "views": 2000}], "unhealthy", "The numbers can"),
    ],
)
def test_each_verdict_reads_in_plain_words_with_a_next_step(user, project, live_page, rows, verdict, headline):
    seed(live_page, rows=rows)
    html = report_html(user, project)
    assert f'data-testid="verdict">{verdict}<' in html
    assert re.search(r'data-testid="headline">([^<]+)<', html).group(1).startswith(headline)
    assert re.search(r'data-testid="next-steps"><li>', html)  # always something to do
    page = parse(html)
    text = " ".join(page.text)
    assert not JARGON.search(text), JARGON.search(text)
    assert not [link for link in page.glossary_links if link not in page.ids]


def test_the_test_card_says_whether_and_when_it_locked(user, project, live_page):
    from projects.models import TestCard

    seed(live_page, rows=[{"views": 30, "visitors": 25, "signups": 2}])
    assert "Not locked yet" in section(report_html(user, project), "test-card")
    locked = timezone.now().replace(year=2026, month=3, day=4, hour=9, minute=15)
    TestCard.objects.filter(project=project).update(locked_at=locked)
    card = section(report_html(user, project), "test-card")
    assert "This test card was locked 4 Mar 2026, 09:15 UTC" in card


def test_the_report_page_reads_a_fixed_number_of_queries_however_many_days_and_campaigns(
    user, project, live_page, django_assert_max_num_queries
):
    """Pinned: a workspace page must not grow a query per day, variant or campaign."""

    def campaign_with_spend(n: int, days: int) -> None:
        campaign = Campaign.objects.create(
            project=project, name=f"C{n}", platform="google", budget=Decimal("100.00"), utm_campaign=f"c{n}"
        )
        for back in range(1, days + 1):
            day = timezone.now().date() - timedelta(days=back)
            CampaignSpend.objects.create(campaign=campaign, date=day, spend=Decimal("10.00"), clicks=20)
            DailyRollup.objects.create(
                page=live_page, day=day, channel="paid", traffic=Traffic.HUMAN, variant=f"v{n}", views=5, visitors=4,
                signups=1,
            )  # fmt: skip

    seed(live_page, rows=[{"variant": v, "views": 250, "visitors": 200, "signups": 16} for v in ("a", "b")])
    campaign_with_spend(0, days=8)
    campaign_with_spend(1, days=8)
    client = Client()
    client.force_login(user)
    client.get(f"/projects/{project.pk}/report")  # warm: the session and the caches a first view fills
    with django_assert_max_num_queries(20) as small:  # 20 on 2026-12-06
        assert client.get(f"/projects/{project.pk}/report").status_code == 200
    for n in range(2, 7):
        campaign_with_spend(n, days=8)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(f"/projects/{project.pk}/report").status_code == 200


@pytest.mark.parametrize(
    ("rows", "closes"),
    [
        ([{"views": 450, "visitors": 400, "signups": 60}], True),  # validated
        ([{"views": 450, "visitors": 400, "signups": 1}], True),  # not validated
        ([{"views": 30, "visitors": 25, "signups": 2}], False),  # not enough data
    ],
)
def test_the_keep_button_says_when_keeping_closes_the_project(user, project, live_page, rows, closes):
    """Keeping a final verdict completes the project: the button says so before it is pressed,
    however many reports were kept before."""
    seed(live_page, rows=rows)
    html = report_html(user, project)
    assert ('data-testid="keep-closes"' in html) is closes
    assert ("Keep this report and close the project" in html) is closes

"""Kept reports (issue 24, item 5): listed on the report page, each read back from what was kept, two compared
side by side with every change marked; the report's figures equal the API's; the screens' query counts pinned."""

import re
from datetime import timedelta
from decimal import Decimal
from html import unescape

import pytest
from django.test import Client
from django.utils import timezone

from projects.analysis.money import format_money
from projects.analysis.report_diff import report_diff
from projects.models import Campaign, CampaignSpend, DailyRollup, LandingPage, ReportSnapshot, Traffic
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def add_days(project, page, *, days: int, campaigns: int = 0, visitors: int = 40, signups: int = 3) -> None:
    """`days` more days of rollups before the newest (paid, people), and `campaigns` campaigns spending on each."""
    LandingPage.objects.filter(pk=page.pk).update(published_at=timezone.now() - timedelta(days=days + 40))
    first = DailyRollup.objects.filter(page=page).order_by("day").values_list("day", flat=True).first()
    start = first or timezone.now().date()
    for back in range(1, days + 1):
        day = start - timedelta(days=back)
        DailyRollup.objects.create(
            page=page, day=day, channel="paid", traffic=Traffic.HUMAN, views=visitors + 5, visitors=visitors,
            signups=signups,
        )  # fmt: skip
    for _ in range(campaigns):
        campaign = Campaign.objects.create(
            project=project,
            name=f"C{Campaign.objects.count()}",
            platform="google",
            budget=Decimal("500.00"),
            utm_campaign=f"c{Campaign.objects.count()}",
        )
        for back in range(1, days + 1):
            CampaignSpend.objects.create(
                campaign=campaign, date=start - timedelta(days=back), spend=Decimal("7.50"), clicks=30
            )


def keep(client, project) -> ReportSnapshot:
    response = client.post(f"/projects/{project.pk}/report/keep")
    assert response.status_code == 302
    return ReportSnapshot.objects.filter(project=project).order_by("-created_at", "-id").first()


def two_kept(user, project, page) -> tuple[Client, ReportSnapshot, ReportSnapshot]:
    client = signed_in(user)
    add_days(project, page, days=8, campaigns=1)
    first = keep(client, project)
    add_days(project, page, days=4, visitors=90, signups=1)  # traffic changes between the two
    second = keep(client, project)
    assert first.pk != second.pk
    return client, first, second


def test_kept_reports_are_listed_with_date_verdict_score_and_a_link(user, project, live_page):
    client, first, second = two_kept(user, project, live_page)
    html = client.get(f"/projects/{project.pk}/report").content.decode()
    kept = re.search(r'data-testid="kept-reports">(.*?)</table>', html, re.S).group(1)
    for snapshot in (first, second):
        assert f'href="/projects/{project.pk}/reports/{snapshot.pk}/"' in kept
        assert f"{snapshot.created_at:%-d %b %Y, %H:%M} UTC" in kept
        assert snapshot.verdict in kept
    assert kept.index(f"/reports/{second.pk}/") < kept.index(f"/reports/{first.pk}/")  # newest first
    # The compare form offers both, the older preselected as "earlier".
    form = re.search(r'data-testid="compare-form">(.*?)</form>', html, re.S).group(1)
    assert f'action="/projects/{project.pk}/reports/compare"' in html
    assert re.search(rf'name="a"[^>]*>.*?<option value="{first.pk}" selected', form, re.S)
    assert re.search(rf'name="b"[^>]*>.*?<option value="{second.pk}" selected', form, re.S)


def test_a_kept_report_reads_back_what_was_kept_not_todays_figures(user, project, live_page):
    client, first, _second = two_kept(user, project, live_page)
    html = client.get(f"/projects/{project.pk}/reports/{first.pk}/").content.decode()
    data = first.data
    assert f'data-testid="verdict">{data["verdict"]}<' in html
    assert f'data-field="inputs.visitors">{data["inputs"]["visitors"]}<' in html
    assert f'data-field="inputs.signups">{data["inputs"]["signups"]}<' in html
    cost = format_money(data["cost_per_signup"], data["test_card"]["currency"])
    assert f'data-cost="cost-per-signup">{cost}<' in html
    assert "As kept on" in html and 'data-testid="kept-note"' in html
    # Every in-page glossary link of the kept report has its entry on the page.
    ids = set(re.findall(r'id="([^"]+)"', html))
    missing = {link for link in re.findall(r'href="#(g-[a-z0-9-]+)"', html) if link not in ids}
    assert not missing, missing
    assert re.search(r'href="/projects/\d+/report" aria-current="page">Report<', html)


def test_compare_shows_exactly_the_changes_of_the_two_snapshots(user, project, live_page):
    client, first, second = two_kept(user, project, live_page)
    # Either order: the older on the left.
    for a, b in ((first, second), (second, first)):
        response = client.get(f"/projects/{project.pk}/reports/compare?a={a.pk}&b={b.pk}")
        assert response.status_code == 200
        html = response.content.decode()
        expected = report_diff(first.data, second.data)
        rows = {
            key: (cls, unescape(re.sub(r"<[^>]+>", "", change)).strip())
            for cls, key, change in re.findall(
                r'<tr class="([^"]*)" data-key="([^"]+)">.*?data-testid="change">(.*?)</td></tr>', html, re.S
            )
        }
        lines = (*expected.verdict, *expected.inputs, *expected.costs, *expected.card)
        assert set(rows) == {c.key for c in lines}
        for change in lines:
            cls, text = rows[change.key]
            if change.direction in ("up", "down"):
                assert cls == f"changed {change.direction}", change
                assert text.endswith(change.difference) and change.direction in text, (change, text)
            elif change.direction == "changed":
                assert cls == "changed changed" and text.endswith("changed"), change
            else:
                assert cls == "same" and text == "same", change
        changed = {c.key for c in expected.changes}
        assert {"inputs.visitors", "inputs.signups", "inputs.days"} <= changed  # the traffic between them
        assert f"{len(expected.changes)} figures changed" in html
        assert 'data-testid="compare-summary"' in html


def test_compare_refuses_bad_ids_foreign_reports_and_the_same_report_twice(user, project, live_page):
    client, first, second = two_kept(user, project, live_page)
    base = f"/projects/{project.pk}/reports/compare"
    assert client.get(f"{base}?a={first.pk}").status_code == 404
    assert client.get(f"{base}?a=x&b={second.pk}").status_code == 404
    assert client.get(f"{base}?a={first.pk}&b=999999").status_code == 404
    # Beyond what a database integer holds, zero and negative: no such report, never a server error.
    for huge in ("99999999999999999999", str(2**63), "0", "-3"):
        assert client.get(f"{base}?a={huge}&b={huge}").status_code == 404, huge
    same = client.get(f"{base}?a={first.pk}&b={first.pk}")
    assert same.status_code == 400
    assert "Pick two different reports to compare." in same.content.decode()
    # Another founder's kept report: 404 alone and in a pair, and theirs are not ours to read.
    other = signed_in(UserFactory())
    assert other.get(f"/projects/{project.pk}/reports/{first.pk}/").status_code == 404
    assert other.get(f"{base}?a={first.pk}&b={second.pk}").status_code == 404
    from tests.factories import ProjectFactory

    theirs = ReportSnapshot.objects.create(project=ProjectFactory(), verdict="x", data={"verdict": "x"})
    assert client.get(f"/projects/{project.pk}/reports/{theirs.pk}/").status_code == 404
    assert client.get(f"{base}?a={first.pk}&b={theirs.pk}").status_code == 404
    assert Client().get(f"/projects/{project.pk}/reports/{first.pk}/").status_code == 302  # to the login page
    assert Client().get(f"{base}?a={first.pk}&b={second.pk}").status_code == 302


API_COUNTS = ("visitors", "signups", "confirmed", "preorders", "warm_visitors", "clicks")
COSTS = {
    "cost-per-signup": "cost_per_signup",
    "cost-per-preorder": "cost_per_preorder",
    "cost-per-confirmed-signup": "cost_per_confirmed_signup",
    "cost-per-paid-visitor": "cost_per_visitor",
    "cost-per-click": "cost_per_click",
}


def test_every_figure_of_the_report_page_equals_the_apis(user, project, live_page, auth_api_client):
    add_days(project, live_page, days=9, campaigns=2, visitors=50, signups=4)
    html = signed_in(user).get(f"/projects/{project.pk}/report").content.decode()
    api = auth_api_client.get(f"/api/projects/{project.pk}/report").json()
    currency = api["test_card"]["currency"]
    assert re.search(r'data-testid="verdict">([^<]+)<', html).group(1) == api["verdict"]
    assert api["score"] is not None
    assert re.search(r'data-testid="score">([^<]+)<', html).group(1) == f"{api['score']:g}"
    shown = dict(re.findall(r'data-field="inputs\.([a-z_]+)">([^<]*)<', html))
    for name in API_COUNTS:
        if api["inputs"].get(name) is not None:
            assert shown[name] == str(api["inputs"][name]), name
    assert shown["spend"] == format_money(api["inputs"]["spend"], currency)
    funnel = re.search(r'id="funnel".*?</section>', html, re.S).group(0)
    costs = dict(re.findall(r'href="#g-(cost-[a-z-]+)">[^<]*</a></dt><dd>([^<]*)</dd>', funnel))
    assert costs, "no costs shown"
    for entry, field in COSTS.items():
        if entry in costs:
            value = api[field]
            assert costs[entry] == (format_money(value, currency) if value is not None else "—"), entry
    assert "cost-per-signup" in costs and api["cost_per_signup"] is not None
    # The test card's bars: the same as the API's card.
    card = re.search(r'id="test-card".*?</section>', html, re.S).group(0)
    assert f"{api['test_card']['signup_bar'] * 100:.1f}%" in card
    assert format_money(api["test_card"]["allowable_cost_per_lead"], currency) in card


def test_the_screens_read_a_fixed_number_of_queries_however_many_kept_reports_and_days(
    user, project, live_page, django_assert_num_queries
):
    client, first, second = two_kept(user, project, live_page)
    screens = {
        "report": f"/projects/{project.pk}/report",
        "snapshot": f"/projects/{project.pk}/reports/{first.pk}/",
        "compare": f"/projects/{project.pk}/reports/compare?a={first.pk}&b={second.pk}",
    }
    # The report: 20 since the versions table counts confirmed signups too (one read of Signup rows).
    pinned = {"report": 20, "snapshot": 4, "compare": 5}  # pinned 2026-12-06
    for name, path in screens.items():
        client.get(path)  # warm: the session and the caches a first view fills
        with django_assert_num_queries(pinned[name], info=name):
            assert client.get(path).status_code == 200
    for _ in range(6):
        keep(client, project)
    add_days(project, live_page, days=20, campaigns=2)
    for name, path in screens.items():
        client.get(path)  # the writes above emptied the caches: warm them again
        with django_assert_num_queries(pinned[name], info=name):
            assert client.get(path).status_code == 200


def test_a_kept_report_says_when_its_card_locked_and_does_not_offer_changes_it_no_longer_allows(
    user, project, live_page
):
    client, first, _second = two_kept(user, project, live_page)
    html = client.get(f"/projects/{project.pk}/reports/{first.pk}/").content.decode()
    assert "Not locked yet when this report was kept" in html and "you can still change it" not in html
    data = {**first.data, "test_card": {**first.data["test_card"], "locked_at": "2026-03-04T09:15:00Z"}}
    ReportSnapshot.objects.filter(pk=first.pk).update(data=data)
    html = client.get(f"/projects/{project.pk}/reports/{first.pk}/").content.decode()
    assert "This test card was locked 4 Mar 2026, 09:15 UTC" in html


def test_compare_without_a_pick_offers_the_form_or_says_to_keep_two_first(user, project, live_page):
    client = signed_in(user)
    add_days(project, live_page, days=3)
    base = f"/projects/{project.pk}/reports/compare"
    keep(client, project)
    alone = client.get(base)
    assert alone.status_code == 200 and 'data-testid="too-few"' in alone.content.decode()
    keep(client, project)
    picker = client.get(base).content.decode()
    assert 'data-testid="compare-form"' in picker and 'data-testid="compare-summary"' not in picker


def test_the_daily_csv_is_linked_visibly_and_downloads(user, project, live_page):
    client = signed_in(user)
    add_days(project, live_page, days=3)
    html = client.get(f"/projects/{project.pk}/report").content.decode()
    tools = re.search(r'<p class="report-tools no-print">(.*?)</p>', html, re.S).group(1)
    link = f"/projects/{project.pk}/report?format=csv"
    assert f'href="{link}"' in tools and 'data-testid="csv-link"' in html
    exported = client.get(link)
    assert exported.status_code == 200 and exported["Content-Type"].startswith("text/csv")
    assert len(exported.content.decode().strip().splitlines()) >= 4  # the header and a line a day

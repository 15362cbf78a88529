"""The founder's signup list over HTTP: newest first, search, filters, keyset pages, the htmx
fragment, bad filters and page links (a message, never a 500), and who may see it."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import NoReverseMatch, reverse

from mvpvalidator.pagination import encode_cursor
from projects.forms.signups import BAD_CURSOR
from projects.models import Channel, EventKind, Experiment, Signup, Traffic, Variant
from projects.selectors.signups import SIGNUP_PAGE_SIZE
from tests.factories import ProjectFactory, UserFactory, generate_and_publish
from tests.projects.events.helpers import store_event

pytestmark = pytest.mark.django_db

T0 = datetime(2031, 3, 3, 12, 0, tzinfo=UTC)


def add_signups(page, n, *, start=T0, step=timedelta(minutes=1), **fields):
    """`n` signups on `page`, the first at `start` and each later one `step` after (ids rising)."""
    rows = Signup.objects.bulk_create(
        [
            Signup(
                landing_page=page,
                project_id=page.project_id,
                email=fields.pop("email", None) or f"v{i}-{Signup.objects.count()}@example.com",
                **{k: v for k, v in fields.items()},
            )
            for i in range(n)
        ]
    )
    for i, row in enumerate(rows):
        Signup.objects.filter(pk=row.pk).update(created_at=start + i * step)
    return list(Signup.objects.filter(pk__in=[r.pk for r in rows]).order_by("-created_at", "-id"))


@pytest.fixture
def page(user):
    return generate_and_publish(ProjectFactory(owner=user), slug="chaser")


@pytest.fixture
def owner(client, user):
    client.force_login(user)
    return client


def url(page, **query):
    from urllib.parse import urlencode

    return reverse("signup-list", kwargs={"pk": page.project_id}) + (f"?{urlencode(query)}" if query else "")


def emails_in(response) -> list[str]:
    return re.findall(r"<td[^>]*>([^<\s]+@example\.com)", response.content.decode())


def test_list_shows_signups_newest_first_with_their_columns(owner, page):
    add_signups(page, 3)
    Signup.objects.filter(email__startswith="v2-").update(
        name="Ann Lee", channel=Channel.PAID, variant="b", consent=True, consent_at=T0, confirmed_at=T0
    )
    response = owner.get(url(page))
    assert response.status_code == 200
    assert emails_in(response) == [s.email for s in Signup.objects.order_by("-created_at", "-id")]
    html = response.content.decode()
    assert "Ann Lee" in html and "Paid" in html and "Confirmed" in html and ">b<" in html
    assert 'data-testid="total" role="status">3 signups.' in html
    assert f'href="/projects/{page.project_id}/signups.csv"' in html
    assert response["Cache-Control"].startswith("max-age=0") and "HX-Request" in response["Vary"]


def test_qualifying_answer_column_only_when_a_page_asks_the_question(owner, page):
    add_signups(page, 1, qualifying_answer="Spreadsheets")
    assert "Spreadsheets" not in owner.get(url(page)).content.decode()
    page.qualifying_question = "What do you use today?"
    page.save(update_fields=["qualifying_question"])
    html = owner.get(url(page)).content.decode()
    assert '<th scope="col">Answer</th>' in html and "Spreadsheets" in html


def test_search_matches_part_of_an_email_or_a_name_in_any_case(owner, page):
    add_signups(page, 1, email="maria@example.com")
    add_signups(page, 1, email="bob@example.com", name="Maribel")
    add_signups(page, 1, email="zoe@example.com")
    response = owner.get(url(page, q="MARI"))
    assert response.status_code == 200
    assert emails_in(response) == ["bob@example.com", "maria@example.com"]
    assert "2 signups match these filters" in response.content.decode()


def test_filters_confirmed_channel_and_variant(owner, page):
    add_signups(page, 1, email="conf@example.com", confirmed_at=T0)
    add_signups(page, 1, email="unsub@example.com", confirmed_at=T0, unsubscribed_at=T0)
    add_signups(page, 1, email="paid@example.com", channel=Channel.PAID, variant="b")
    exp = Experiment.objects.create(page=page, name="Headline", seed="s")
    Variant.objects.create(experiment=exp, key="b", weight=1)
    assert emails_in(owner.get(url(page, confirmed="yes"))) == ["conf@example.com"]
    assert emails_in(owner.get(url(page, confirmed="no"))) == ["paid@example.com", "unsub@example.com"]
    assert emails_in(owner.get(url(page, channel="paid"))) == ["paid@example.com"]
    assert emails_in(owner.get(url(page, variant="b"))) == ["paid@example.com"]


def test_preorder_filter_is_the_visitors_buy_click_on_that_page(owner, page):
    buyer, browser = add_signups(page, 2, visitor_hash="")
    Signup.objects.filter(pk=buyer.pk).update(visitor_hash="h-buyer")
    Signup.objects.filter(pk=browser.pk).update(visitor_hash="h-browser")
    store_event(key="e1", page=page, kind=EventKind.PREORDER, visitor_hash="h-buyer", occurred_at=T0, day=T0.date())
    store_event(  # a click, not a pre-order
        key="e2", page=page, kind=EventKind.CTA_CLICK, visitor_hash="h-browser", occurred_at=T0, day=T0.date()
    )
    yes = owner.get(url(page, preorder="yes"))
    assert emails_in(yes) == [buyer.email] and "Pre-ordered</span>" in yes.content.decode()
    assert emails_in(owner.get(url(page, preorder="no"))) == [browser.email]


def test_people_by_default_and_the_founders_tests_and_bots_on_request(owner, page):
    add_signups(page, 1, email="person@example.com")
    add_signups(page, 1, email="me@example.com", traffic=Traffic.FOUNDER)
    add_signups(page, 1, email="bot@example.com", traffic=Traffic.BOT)
    assert emails_in(owner.get(url(page))) == ["person@example.com"]
    assert emails_in(owner.get(url(page, traffic="founder"))) == ["me@example.com"]
    everyone = owner.get(url(page, traffic="all"))
    assert len(emails_in(everyone)) == 3 and "Your test</span>" in everyone.content.decode()


def test_held_signup_forms_are_counted_beside_the_list(owner, page):
    from projects.services.signups import held_signup_create

    held_signup_create(page=page, reason="honeypot")
    html = owner.get(url(page)).content.decode()
    assert "1 signup form looked like a bot" in html


def test_keyset_pages_walk_older_and_back_newer_without_gaps(owner, page):
    # Several rows share an instant: the id breaks the tie.
    rows = add_signups(page, 2 * SIGNUP_PAGE_SIZE + 5, step=timedelta(seconds=0))
    rows += add_signups(page, 3, start=T0 - timedelta(days=1))
    expected = [s.email for s in Signup.objects.order_by("-created_at", "-id")]
    first = owner.get(url(page))
    seen = emails_in(first)
    html = first.content.decode()
    assert "Newer" not in html and 'rel="next"' in html
    pages = [first]
    while (match := re.search(r'href="([^"]+)"[^>]*rel="next"', pages[-1].content.decode())) is not None:
        pages.append(owner.get(match.group(1).replace("&amp;", "&")))
        seen += emails_in(pages[-1])
    assert seen == expected and len(pages) == 3
    back = re.search(r'href="([^"]+)"[^>]*rel="prev"', pages[-1].content.decode()).group(1).replace("&amp;", "&")
    assert emails_in(owner.get(back)) == emails_in(pages[1])


def test_page_links_keep_the_filters(owner, page):
    add_signups(page, SIGNUP_PAGE_SIZE + 2, channel=Channel.SOCIAL)
    add_signups(page, 3, channel=Channel.EMAIL)
    html = owner.get(url(page, channel="social", q="example")).content.decode()
    older = re.search(r'href="([^"]+)"[^>]*rel="next"', html).group(1).replace("&amp;", "&")
    assert "channel=social" in older and "q=example" in older
    rest = owner.get(older)
    assert len(emails_in(rest)) == 2


def test_a_short_newer_page_shows_the_first_page_full(owner, page):
    rows = add_signups(page, 10)
    response = owner.get(url(page, newer=encode_cursor(rows[3].created_at, rows[3].pk)))
    assert emails_in(response) == [s.email for s in rows]


def test_htmx_request_gets_the_results_fragment_only(owner, page):
    add_signups(page, 2)
    response = owner.get(url(page, channel=""), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html and "<form" not in html
    assert len(emails_in(response)) == 2 and "Download CSV" in html
    # Going back in history, htmx asks for the whole page again.
    restore = owner.get(url(page), HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    assert "<html" in restore.content.decode()


def test_the_form_works_without_js_and_drives_htmx(owner, page):
    html = owner.get(url(page)).content.decode()
    form = re.search(r"<form method=\"get\"[^>]*>", html).group(0)
    assert f'action="/projects/{page.project_id}/signups/"' in form and 'hx-get="' in form
    assert 'hx-push-url="true"' in form and 'hx-target="#signup-results"' in form
    assert '<label for="id_q">Search</label>' in html and '<button type="submit">Filter</button>' in html


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"confirmed": "maybe"}, "confirmed"),
        ({"preorder": "1"}, "preorder"),
        ({"channel": "carrier-pigeon"}, "channel"),
        ({"variant": "nope"}, "variant"),
        ({"traffic": "aliens"}, "traffic"),
        ({"q": "x" * 101}, "q"),
    ],
)
def test_a_bad_filter_is_a_400_with_its_message_beside_the_field_and_the_rest_applied(owner, page, query, field):
    add_signups(page, 1, email="social@example.com", channel=Channel.SOCIAL)
    add_signups(page, 1, email="direct@example.com", channel=Channel.DIRECT)
    query = {**query, "channel": query.get("channel", "social")}
    response = owner.get(url(page, **query))
    assert response.status_code == 400
    html = response.content.decode()
    assert f'id="id_{field}_error"' in html and 'aria-invalid="true"' in html
    expected = ["direct@example.com", "social@example.com"] if field == "channel" else ["social@example.com"]
    assert sorted(emails_in(response)) == expected


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!",
        "",
        encode_cursor(T0, 2**70),  # past any row id: an overflow in the database
        encode_cursor(T0.replace(tzinfo=None), 5),  # no time zone
        # Aware, but outside the calendar once in UTC (an OverflowError in the database's terms).
        encode_cursor(datetime.fromisoformat("0001-01-01T00:00:00+05:00"), 5),
        encode_cursor(datetime.fromisoformat("9999-12-31T23:59:59-05:00"), 5),
        "MjAzMS0wMy0wM1QxMjowMDowMCswMDowMHw=",  # "...|" without an id
        "%00%ff",
    ],
)
@pytest.mark.parametrize("direction", ["older", "newer"])
def test_a_bad_page_link_is_a_message_and_the_first_page_never_a_500(owner, page, cursor, direction):
    rows = add_signups(page, 3)
    response = owner.get(url(page, **{direction: cursor}))
    assert emails_in(response) == [s.email for s in rows]
    if cursor:
        assert response.status_code == 400 and BAD_CURSOR in response.content.decode()


def test_a_cursor_past_the_oldest_row_says_so_and_links_back(owner, page):
    rows = add_signups(page, 3)
    response = owner.get(url(page, older=encode_cursor(rows[-1].created_at, rows[-1].pk)))
    html = response.content.decode()
    assert response.status_code == 200 and "No older signups." in html and 'rel="prev"' in html


def test_empty_state_points_to_the_project(owner, user):
    project = ProjectFactory(owner=user)
    html = owner.get(reverse("signup-list", kwargs={"pk": project.pk})).content.decode()
    try:
        project_url = reverse("project-detail", kwargs={"pk": project.pk})
    except NoReverseMatch:  # the projects pages are not installed: the link is left empty
        project_url = ""
    assert f'No signups yet: <a href="{project_url}">publish your page and share the link</a>' in html
    assert "Download CSV" not in html


def test_no_match_says_so_and_offers_the_whole_list(owner, page):
    add_signups(page, 2)
    html = owner.get(url(page, q="nobody-like-this")).content.decode()
    assert "No signups match these filters." in html and f'href="/projects/{page.project_id}/signups/"' in html


def test_another_founders_project_is_a_404(client, page):
    client.force_login(UserFactory())
    assert client.get(url(page)).status_code == 404
    assert client.get(reverse("signup-export", kwargs={"pk": page.project_id})).status_code == 404


def test_a_missing_project_is_a_404(owner):
    assert owner.get(reverse("signup-list", kwargs={"pk": 999999})).status_code == 404


@pytest.mark.parametrize("name", ["signup-list", "signup-export"])
def test_anonymous_is_sent_to_sign_in(client, page, name):
    target = reverse(name, kwargs={"pk": page.project_id})
    response = client.get(target)
    assert response.status_code == 302 and response["Location"].startswith(f"/accounts/login/?next={target}")


@pytest.mark.parametrize("name", ["signup-list", "signup-export"])
def test_only_get(owner, page, name):
    assert owner.post(reverse(name, kwargs={"pk": page.project_id})).status_code == 405

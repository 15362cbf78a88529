"""The landing page editor over HTTP: create a page, edit every section, refuse each bad input
beside its field without writing anything."""

import re

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects.models import LandingPage
from projects.services.pages import landing_page_create
from projects.services.prototypes import prototype_generate

pytestmark = pytest.mark.django_db


@pytest.fixture
def page(project):
    prototype_generate(project=project)
    return landing_page_create(project=project, slug="chaser")


@pytest.fixture
def owner(client, user):
    client.force_login(user)
    return client


def edit_url(page):
    return f"/projects/{page.project_id}/pages/{page.pk}/"


def form_data(page, **changes):
    """What the editor posts for the page as it is, with `changes`."""
    data = {
        "headline": page.headline,
        "subheadline": page.subheadline,
        "value_proposition": page.value_proposition,
        "features": "\n".join(page.features),
        "cta_text": page.cta_text,
        "cta_kind": page.cta_kind,
        "preorder_price": "" if page.preorder_price is None else str(page.preorder_price),
        "qualifying_question": page.qualifying_question,
        "consent_text": page.consent_text,
        "accent_color": page.accent_color,
        "accent_color_text": "",
        "font_pairing": page.font_pairing,
        "slug": page.slug,
        "tiers-TOTAL_FORMS": "4",
        "tiers-INITIAL_FORMS": "4",
        "tiers-MIN_NUM_FORMS": "0",
        "tiers-MAX_NUM_FORMS": "4",
    }
    if page.double_opt_in:
        data["double_opt_in"] = "on"
    for i in range(4):
        tier = page.pricing_tiers[i] if i < len(page.pricing_tiers) else {}
        data[f"tiers-{i}-name"] = tier.get("name", "")
        data[f"tiers-{i}-price"] = tier.get("price", "")
        data[f"tiers-{i}-period"] = tier.get("period", "month")
        data[f"tiers-{i}-features"] = "\n".join(tier.get("features", []))
    data.update(changes)
    return data


def test_page_create_makes_a_draft_from_the_prototype_and_opens_the_editor(owner, project):
    prototype = prototype_generate(project=project)
    response = owner.post(f"/projects/{project.pk}/pages/new")
    page = LandingPage.objects.get(project=project)
    assert response.status_code == 302 and response["Location"] == edit_url(page)
    assert page.status == "draft" and page.headline == prototype.headline


def test_page_create_without_a_prototype_says_why_and_makes_nothing(owner, project):
    response = owner.post(f"/projects/{project.pk}/pages/new")
    assert response.status_code == 302  # back to the project, with the reason
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Generate a prototype first: a page shows the current prototype."
    ]
    assert not LandingPage.objects.exists()


def test_page_create_refuses_get_and_other_founders(client, project):
    prototype_generate(project=project)
    assert client.post(f"/projects/{project.pk}/pages/new").status_code == 302  # to the login
    from tests.factories import UserFactory

    client.force_login(UserFactory())
    assert client.post(f"/projects/{project.pk}/pages/new").status_code == 404
    assert not LandingPage.objects.exists()


def test_editor_shows_every_section_with_the_saved_values(owner, page):
    response = owner.get(edit_url(page))
    assert response.status_code == 200
    html = response.content.decode()
    for name in (
        "headline",
        "subheadline",
        "value_proposition",
        "features",
        "cta_text",
        "cta_kind",
        "preorder_price",
        "qualifying_question",
        "double_opt_in",
        "consent_text",
        "accent_color",
        "accent_color_text",
        "font_pairing",
        "slug",
        "tiers-0-name",
        "tiers-3-features",
    ):
        assert f'name="{name}"' in html, name
    assert 'type="color"' in html
    assert page.headline in html
    assert 'hx-post="' + edit_url(page) + 'preview"' in html
    assert 'title="Preview"' in html  # the saved page's preview frame, at once
    assert "http://testserver/p/chaser/" in html  # the public link, absolute (the address the request reached)


def test_public_link_uses_the_development_servers_own_address(owner, page, settings):
    settings.DEBUG = True
    settings.PUBLIC_BASE_URL_SET = False
    html = owner.get(edit_url(page), HTTP_HOST="localhost:8123").content.decode()
    assert "http://localhost:8123/p/chaser/" in html


def test_editor_saves_every_section(owner, page):
    data = form_data(
        page,
        headline="Invoices paid on time",
        subheadline="Without the awkward emails",
        value_proposition="<p>We <strong>chase</strong> for you.</p><script>x()</script>",
        features="Automatic reminders\n\n  Friendly tone  \n",
        cta_text="Pre-order now",
        cta_kind="preorder",
        preorder_price="19.50",
        qualifying_question="How many invoices a month?",
        consent_text="Send me <b>news</b>",
        accent_color="#AA3300",
        font_pairing="editorial",
        slug="Invoice-Chaser",
        **{
            "tiers-0-name": "Solo",
            "tiers-0-price": "9",
            "tiers-0-period": "month",
            "tiers-0-features": "1 user\n50 invoices",
            "tiers-1-name": "",
            "tiers-1-price": "",
            "tiers-1-features": "",
            "tiers-2-name": "",
            "tiers-2-price": "",
            "tiers-2-features": "",
        },
    )
    del data["double_opt_in"]
    response = owner.post(edit_url(page), data)
    assert response.status_code == 302 and response["Location"] == edit_url(page)
    page.refresh_from_db()
    assert page.headline == "Invoices paid on time"
    assert page.subheadline == "Without the awkward emails"
    assert "<script>" not in page.value_proposition and "<strong>chase</strong>" in page.value_proposition
    assert page.features == ["Automatic reminders", "Friendly tone"]
    assert page.cta_kind == "preorder" and str(page.preorder_price) == "19.50"
    assert page.qualifying_question == "How many invoices a month?"
    assert page.double_opt_in is False
    assert page.consent_text == "Send me news"
    assert page.accent_color == "#aa3300"
    assert page.font_pairing == "editorial"
    assert page.slug == "invoice-chaser"
    assert page.pricing_tiers == [
        {"name": "Solo", "price": "9.00", "period": "month", "features": ["1 user", "50 invoices"]}
    ]


def test_typed_colour_wins_over_the_picker(owner, page):
    owner.post(edit_url(page), form_data(page, accent_color="#000000", accent_color_text=" #12AB34 "))
    page.refresh_from_db()
    assert page.accent_color == "#12ab34"


BAD_INPUTS = [
    ("headline", {"headline": ""}, "This field is required."),
    ("headline", {"headline": "x" * 121}, "at most 120 characters"),
    ("value_proposition", {"value_proposition": ""}, "This field is required."),
    ("features", {"features": "\n".join(f"f{i}" for i in range(9))}, "At most 8 benefits"),
    ("features", {"features": "y" * 141}, "under 140 characters"),
    ("cta_text", {"cta_text": ""}, "This field is required."),
    ("cta_kind", {"cta_kind": "lottery"}, "Select a valid choice"),
    ("preorder_price", {"cta_kind": "preorder", "preorder_price": ""}, "A pre-order page needs a price."),
    ("preorder_price", {"cta_kind": "preorder", "preorder_price": "-1"}, "greater than or equal to 0"),
    ("preorder_price", {"cta_kind": "preorder", "preorder_price": "abc"}, "Enter a number."),
    ("consent_text", {"consent_text": "c" * 201}, "at most 200 characters"),
    ("accent_color", {"accent_color": "blue"}, "six hex digits"),
    ("accent_color", {"accent_color_text": "#12345"}, "six hex digits"),
    ("font_pairing", {"font_pairing": "comic"}, "Select a valid choice"),
    ("slug", {"slug": "not a slug!"}, "Enter a valid"),
    ("slug", {"slug": ""}, "This field is required."),
    ("tiers-0-price", {"tiers-0-name": "Solo", "tiers-0-price": ""}, "Give the tier a price"),
    ("tiers-0-name", {"tiers-0-name": "", "tiers-0-price": "5"}, "Give the tier a name"),
    ("tiers-0-price", {"tiers-0-name": "Solo", "tiers-0-price": "cheap"}, "Enter a number."),
]


@pytest.mark.parametrize(
    ("field", "changes", "message"), BAD_INPUTS, ids=[f"{f}-{i}" for i, (f, _, _) in enumerate(BAD_INPUTS)]
)
def test_each_bad_input_is_shown_beside_its_field_and_nothing_is_written(owner, page, field, changes, message):
    before = LandingPage.objects.values().get(pk=page.pk)
    response = owner.post(edit_url(page), form_data(page, **changes))
    assert response.status_code == 400
    html = response.content.decode()
    error_id = f'id="id_{field}_error"'
    assert error_id in html, html[html.find('class="errors"') - 200 : html.find('class="errors"') + 300]
    block = html[html.index(error_id) : html.index(error_id) + 400]
    assert message in block
    # The input (or each choice) points at its error and says it is invalid.
    assert re.search(rf'aria-invalid="true"[^>]*aria-describedby="[^"]*id_{field}_error', html) or re.search(
        rf'aria-describedby="[^"]*id_{field}_error[^"]*"[^>]*aria-invalid="true"', html
    )
    assert LandingPage.objects.values().get(pk=page.pk) == before


def test_a_slug_taken_by_another_page_is_refused_beside_the_field(owner, page, project):
    other = landing_page_create(project=project, slug="taken")
    response = owner.post(edit_url(page), form_data(page, slug="taken"))
    assert response.status_code == 400
    assert "This address is already taken." in response.content.decode()
    page.refresh_from_db()
    assert page.slug == "chaser" and other.slug == "taken"


def test_another_founders_page_is_a_404_and_untouched(client, page):
    from tests.factories import UserFactory

    client.force_login(UserFactory())
    assert client.get(edit_url(page)).status_code == 404
    assert client.post(edit_url(page), form_data(page, headline="Mine now")).status_code == 404
    page.refresh_from_db()
    assert page.headline != "Mine now"


def test_a_page_under_another_project_of_the_same_founder_is_a_404(owner, page, user):
    from tests.factories import ProjectFactory

    other = ProjectFactory(owner=user)
    assert owner.get(f"/projects/{other.pk}/pages/{page.pk}/").status_code == 404


def test_anonymous_is_sent_to_sign_in(client, page):
    response = client.get(edit_url(page))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_editor_query_count_is_pinned(owner, page):
    from projects.services.variants import variant_create

    variant_create(page=page)
    variant_create(page=page)
    owner.get(edit_url(page))  # warm the session's and the cache's first reads
    with CaptureQueriesContext(connection) as queries:
        response = owner.get(edit_url(page))
    assert response.status_code == 200
    # session, user, page (with its project), variants.
    assert len(queries) == 4, [q["sql"] for q in queries]


def test_the_service_cleans_the_look_and_consent_fields_for_every_caller(page):
    from django.core.exceptions import ValidationError

    from projects.services.pages import landing_page_update

    page = landing_page_update(
        page=page, data={"accent_color": " #ABCDEF ", "font_pairing": "technical", "consent_text": "<i>Yes</i> please"}
    )
    assert (page.accent_color, page.font_pairing, page.consent_text) == ("#abcdef", "technical", "Yes please")
    for data, field in (
        ({"accent_color": "#abc"}, "accent_color"),
        ({"accent_color": "red;}body{x"}, "accent_color"),
        ({"font_pairing": "papyrus"}, "font_pairing"),
    ):
        with pytest.raises(ValidationError) as caught:
            landing_page_update(page=page, data=data)
        assert field in caught.value.message_dict
    page.refresh_from_db()
    assert (page.accent_color, page.font_pairing) == ("#abcdef", "technical")

"""Page variants in the editor: a new variant is the page as it is; its editor stores only the
fields the founder changed; delete asks first."""

import re

import pytest

from projects.models import PageVariant
from projects.services.pages import landing_page_archive, landing_page_create, landing_page_update
from projects.services.prototypes import prototype_generate
from projects.services.variants import VARIANT_KEYS, variant_create
from tests.factories import UserFactory
from tests.projects.workspace.test_pages_editor import edit_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def page(project):
    prototype_generate(project=project)
    return landing_page_create(project=project, slug="chaser")


@pytest.fixture
def owner(client, user):
    client.force_login(user)
    return client


def variant_url(page, key):
    return f"{edit_url(page)}variants/{key}/"


def variant_data(page, **changes):
    data = {
        "name": "Variant B",
        "headline": page.headline,
        "subheadline": page.subheadline,
        "value_proposition": page.value_proposition,
        "features": "\n".join(page.features),
        "cta_text": page.cta_text,
    }
    if page.cta_kind == "preorder":
        data["preorder_price"] = str(page.preorder_price)
    data.update(changes)
    return data


def test_add_a_variant_copies_nothing_and_opens_its_editor(owner, page):
    response = owner.post(f"{edit_url(page)}variants/new")
    variant = PageVariant.objects.get(page=page)
    assert response.status_code == 302 and response["Location"] == variant_url(page, "b")
    assert variant.key == "b" and variant.overrides == {} and variant.name == "Variant B"
    html = owner.get(variant_url(page, "b")).content.decode()
    assert f'value="{page.headline}"' in html  # the page's values as the defaults
    assert 'title="Preview"' in html


def test_keys_follow_on_and_stop_at_what_an_experiment_holds(owner, page):
    for _ in VARIANT_KEYS:
        owner.post(f"{edit_url(page)}variants/new")
    assert list(PageVariant.objects.filter(page=page).values_list("key", flat=True)) == list(VARIANT_KEYS)
    assert VARIANT_KEYS == ("b", "c", "d", "e")
    response = owner.post(f"{edit_url(page)}variants/new", follow=True)
    assert "at most 4 variants" in response.content.decode()
    assert PageVariant.objects.filter(page=page).count() == 4


def test_a_deleted_key_is_given_again(owner, page):
    b = variant_create(page=page)
    variant_create(page=page)
    owner.post(f"{variant_url(page, b.key)}delete", {"confirm": "yes"})
    assert variant_create(page=page).key == "b"


def test_edit_stores_only_the_changed_fields(owner, page):
    variant_create(page=page)
    response = owner.post(variant_url(page, "b"), variant_data(page, name="Cheaper", headline="Half the price"))
    assert response.status_code == 302
    variant = PageVariant.objects.get(page=page, key="b")
    assert variant.name == "Cheaper"
    assert variant.overrides == {"headline": "Half the price"}


def test_a_field_set_back_to_the_pages_value_follows_the_page_again(owner, page):
    variant = variant_create(page=page)
    owner.post(variant_url(page, "b"), variant_data(page, headline="Other", cta_text="Join"))
    owner.post(variant_url(page, "b"), variant_data(page, cta_text="Join"))
    variant.refresh_from_db()
    assert variant.overrides == {"cta_text": "Join"}
    landing_page_update(page=page, data={"headline": "The page's new headline"})
    assert 'value="The page&#x27;s new headline"' in owner.get(variant_url(page, "b")).content.decode()


def test_variant_values_are_cleaned_as_the_pages(owner, page):
    variant_create(page=page)
    owner.post(
        variant_url(page, "b"),
        variant_data(page, headline="<b>Bold</b> claim", value_proposition="<p>ok</p><script>x()</script>"),
    )
    overrides = PageVariant.objects.get(page=page, key="b").overrides
    assert overrides["headline"] == "Bold claim"
    assert "<script>" not in overrides["value_proposition"]


def test_preorder_price_is_offered_and_stored_only_on_a_preorder_page(owner, page):
    variant_create(page=page)
    assert 'name="preorder_price"' not in owner.get(variant_url(page, "b")).content.decode()
    landing_page_update(page=page, data={"cta_kind": "preorder", "preorder_price": "29.00"})
    page.refresh_from_db()
    owner.post(variant_url(page, "b"), variant_data(page, preorder_price="19"))
    assert PageVariant.objects.get(page=page, key="b").overrides == {"preorder_price": "19.00"}


VARIANT_BAD_INPUTS = [
    ("name", {"name": ""}, "This field is required."),
    ("headline", {"headline": ""}, "This field is required."),
    ("headline", {"headline": "h" * 121}, "at most 120 characters"),
    ("cta_text", {"cta_text": ""}, "This field is required."),
    ("features", {"features": "\n".join(str(i) for i in range(9))}, "At most 8 benefits"),
]


@pytest.mark.parametrize(("field", "changes", "message"), VARIANT_BAD_INPUTS)
def test_each_bad_variant_input_is_shown_beside_its_field_and_nothing_is_written(owner, page, field, changes, message):
    variant = variant_create(page=page)
    response = owner.post(variant_url(page, "b"), variant_data(page, **{"subheadline": "Changed", **changes}))
    assert response.status_code == 400
    html = response.content.decode()
    error_id = f'id="id_{field}_error"'
    assert error_id in html and message in html[html.index(error_id) : html.index(error_id) + 300]
    variant.refresh_from_db()
    assert variant.overrides == {} and variant.name == "Variant B"


def test_a_preorder_variant_without_a_price_is_refused_beside_the_field(owner, page):
    landing_page_update(page=page, data={"cta_kind": "preorder", "preorder_price": "29.00"})
    page.refresh_from_db()
    variant = variant_create(page=page)
    response = owner.post(variant_url(page, "b"), variant_data(page, preorder_price=""))
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_preorder_price_error"' in html and "A pre-order page needs a price." in html
    variant.refresh_from_db()
    assert variant.overrides == {}


def test_variant_live_preview_shows_the_variants_copy(owner, page):
    variant_create(page=page)
    response = owner.post(
        f"{variant_url(page, 'b')}preview", variant_data(page, headline="Variant words"), HTTP_HX_REQUEST="true"
    )
    src = re.search(r'<iframe src="([^"]+)"', response.content.decode()).group(1)
    html = owner.get(src).content.decode()
    assert "Variant words" in html and "track.js" not in html
    assert PageVariant.objects.get(page=page, key="b").overrides == {}


def test_delete_asks_first_then_deletes(owner, page):
    variant_create(page=page)
    response = owner.post(f"{variant_url(page, 'b')}delete")
    assert response.status_code == 200 and 'name="confirm" value="yes"' in response.content.decode()
    assert PageVariant.objects.filter(page=page).exists()
    response = owner.post(f"{variant_url(page, 'b')}delete", {"confirm": "yes"})
    assert response.status_code == 302 and response["Location"] == edit_url(page)
    assert not PageVariant.objects.filter(page=page).exists()


def test_another_founders_variants_are_404(client, page):
    variant_create(page=page)
    client.force_login(UserFactory())
    assert client.get(variant_url(page, "b")).status_code == 404
    assert client.post(f"{edit_url(page)}variants/new").status_code == 404
    assert client.post(f"{variant_url(page, 'b')}delete", {"confirm": "yes"}).status_code == 404
    assert PageVariant.objects.filter(page=page).count() == 1


def test_unknown_variant_key_is_404(owner, page):
    assert owner.get(variant_url(page, "z")).status_code == 404


def test_an_archived_pages_variants_cannot_change(owner, page):
    variant_create(page=page)
    landing_page_archive(page=page)
    response = owner.post(variant_url(page, "b"), variant_data(page, headline="Late"))
    assert response.status_code == 400
    assert "archived page cannot be changed" in response.content.decode()
    assert PageVariant.objects.get(page=page).overrides == {}

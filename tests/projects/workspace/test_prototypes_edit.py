"""Editing a version of the copy in the browser: every field, the same rules as a generator's
draft, an error beside the field for each bad input, and nothing written then."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from projects.models import Project, Prototype
from projects.services.prototypes import prototype_generate, prototype_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def founder(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def prototype(project):
    prototype_generate(project=project)
    return prototype_generate(project=project)  # version 2, current


def edit_url(prototype):
    return reverse("prototype-edit", args=[prototype.project_id, prototype.version])


def good_data(**overrides):
    data = {
        "headline": "Invoices that chase themselves",
        "subheadline": "For freelancers who would rather work",
        "value_proposition": "<p>Stop writing reminder emails.</p>",
        "features": "Automatic reminders\nLate fees\n\nOne-click payment links\n",
        "call_to_action": "Join the waitlist",
        "tiers-TOTAL_FORMS": "3",
        "tiers-INITIAL_FORMS": "2",
        "tiers-MIN_NUM_FORMS": "0",
        "tiers-MAX_NUM_FORMS": "4",
        "tiers-0-name": "Solo",
        "tiers-0-price": "9",
        "tiers-0-period": "month",
        "tiers-0-features": "10 invoices\nEmail reminders",
        "tiers-1-name": "Studio",
        "tiers-1-price": "29.50",
        "tiers-1-period": "year",
        "tiers-1-features": "",
        "tiers-2-name": "",
        "tiers-2-price": "",
        "tiers-2-period": "",
        "tiers-2-features": "",
    }
    data.update(overrides)
    return data


def snapshot(prototype):
    prototype.refresh_from_db()
    return {
        f: getattr(prototype, f)
        for f in ("headline", "subheadline", "value_proposition", "features", "pricing_tiers", "call_to_action")
    }


def test_the_form_shows_the_version_as_it_is(founder, prototype):
    response = founder.get(edit_url(prototype))
    assert response.status_code == 200
    html = response.content.decode()
    assert prototype.headline in html
    assert "\n".join(prototype.features) in response.context["form"].initial["features"]
    tiers = response.context["tiers"]
    assert [row.initial["name"] for row in tiers.forms[: len(prototype.pricing_tiers)]] == [
        t["name"] for t in prototype.pricing_tiers
    ]
    assert 'for="id_headline"' in html and 'for="id_tiers-0-price"' in html


def test_saving_replaces_every_field_of_that_version_only(founder, prototype):
    earlier = Prototype.objects.get(project=prototype.project, version=1)
    before_earlier = snapshot(earlier)
    response = founder.post(edit_url(prototype), good_data(), follow=True)
    assert response.redirect_chain[-1][1] == 302
    assert [str(m) for m in response.context["messages"]] == ["Version 2 is saved."]
    assert snapshot(prototype) == {
        "headline": "Invoices that chase themselves",
        "subheadline": "For freelancers who would rather work",
        "value_proposition": "<p>Stop writing reminder emails.</p>",
        "features": ["Automatic reminders", "Late fees", "One-click payment links"],
        "pricing_tiers": [
            {"name": "Solo", "price": "9.00", "period": "month", "features": ["10 invoices", "Email reminders"]},
            {"name": "Studio", "price": "29.50", "period": "year", "features": []},
        ],
        "call_to_action": "Join the waitlist",
    }
    assert snapshot(earlier) == before_earlier
    assert prototype.is_current and prototype.version == 2


def test_an_earlier_version_can_be_edited_and_stays_earlier(founder, prototype):
    earlier = Prototype.objects.get(project=prototype.project, version=1)
    founder.post(edit_url(earlier), good_data(headline="The old angle, reworded"))
    earlier.refresh_from_db()
    assert earlier.headline == "The old angle, reworded" and not earlier.is_current
    assert Prototype.objects.get(project=prototype.project, is_current=True).version == 2


def test_markup_is_cleaned_as_every_copy_is(founder, prototype):
    founder.post(
        edit_url(prototype),
        good_data(
            headline="<b>Bold</b> claim",
            value_proposition='<p onclick="x()">Hi <script>alert(1)</script><strong>there</strong></p>',
            features="<i>One</i>\nTwo\nThree",
        ),
    )
    saved = snapshot(prototype)
    assert saved["headline"] == "Bold claim"
    assert "script" not in saved["value_proposition"] and "onclick" not in saved["value_proposition"]
    assert "<strong>there</strong>" in saved["value_proposition"]
    assert saved["features"][0] == "One"


# One test per bad input: the message sits beside its field, tied to the input, and nothing changes.
BAD_INPUTS = [
    ("headline", {"headline": ""}, "Write a headline."),
    ("headline", {"headline": "x" * 121}, "at most 120 characters"),
    ("headline", {"headline": "<script></script>"}, "This cannot be empty (markup is removed)."),
    ("subheadline", {"subheadline": "x" * 241}, "at most 240 characters"),
    ("value_proposition", {"value_proposition": ""}, "Write a value proposition."),
    ("value_proposition", {"value_proposition": "x" * 1001}, "at most 1000 characters"),
    ("features", {"features": " \n "}, "List the features, one per line."),
    ("features", {"features": "Only one\nand two"}, "Give 3 to 8 (there are 2)."),
    ("features", {"features": "\n".join(f"Feature {i}" for i in range(9))}, "Give 3 to 8 (there are 9)."),
    ("features", {"features": "ok\nfine\n" + "y" * 141}, "Feature 3: use at most 140 characters (there are 141)."),
    ("call_to_action", {"call_to_action": ""}, "Write the button's words."),
    ("call_to_action", {"call_to_action": "x" * 61}, "at most 60 characters"),
]


@pytest.mark.parametrize(("field", "overrides", "message"), BAD_INPUTS)
def test_a_bad_field_is_refused_beside_it_and_nothing_is_written(founder, prototype, field, overrides, message):
    before = snapshot(prototype)
    response = founder.post(edit_url(prototype), good_data(**overrides))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == [field], errors
    assert message in " ".join(errors[field])
    html = response.content.decode()
    assert f'id="id_{field}_errors"' in html
    (tag,) = re.findall(rf'<(?:input|textarea)[^>]*id="id_{field}"[^>]*>', html)
    assert re.search(rf'aria-describedby="[^"]*id_{field}_errors', tag), tag
    assert 'aria-invalid="true"' in tag
    assert snapshot(prototype) == before


BAD_TIERS = [
    ({"tiers-0-price": "-1"}, "tiers-0-price", "greater than or equal to 0"),
    ({"tiers-0-price": "100001"}, "tiers-0-price", "less than or equal to 100000"),
    ({"tiers-0-price": "ten"}, "tiers-0-price", "Enter a number."),
    ({"tiers-0-price": "9.999"}, "tiers-0-price", "no more than 2 decimal places"),
    ({"tiers-0-period": "week"}, "tiers-0-period", "Select a valid choice."),
    ({"tiers-1-period": ""}, "tiers-1-period", "Choose how often it is paid."),
    ({"tiers-1-name": ""}, "tiers-1-name", "Give the tier a name."),
    ({"tiers-0-name": "n" * 41}, "tiers-0-name", "at most 40 characters"),
    ({"tiers-2-name": "Extra"}, "tiers-2-price", "Give the tier a price"),
]


@pytest.mark.parametrize(("overrides", "field_id", "message"), BAD_TIERS)
def test_a_bad_pricing_tier_is_refused_beside_its_box_and_nothing_is_written(
    founder, prototype, overrides, field_id, message
):
    before = snapshot(prototype)
    response = founder.post(edit_url(prototype), good_data(**overrides))
    assert response.status_code == 200
    html = response.content.decode()
    row = int(field_id.split("-")[1])
    name = field_id.split("-")[2]
    assert message in " ".join(response.context["tiers"].forms[row].errors[name])
    assert f'id="id_{field_id}_errors"' in html
    assert snapshot(prototype) == before


def test_removing_every_tier_is_refused_above_the_tiers(founder, prototype):
    before = snapshot(prototype)
    blank = {f"tiers-{i}-{k}": "" for i in range(3) for k in ("name", "price", "period", "features")}
    response = founder.post(edit_url(prototype), good_data(**blank))
    assert response.status_code == 200
    assert response.context["tiers"].rule_errors == ["Give 1 to 4 (there are 0)."]
    assert 'id="tiers-errors"' in response.content.decode()
    assert snapshot(prototype) == before


def test_more_than_four_tiers_is_refused(founder, prototype):
    before = snapshot(prototype)
    extra = {
        "tiers-TOTAL_FORMS": "5",
        **{
            f"tiers-{i}-{k}": v
            for i in range(2, 5)
            for k, v in (("name", f"T{i}"), ("price", "1"), ("period", "month"))
        },
    }
    response = founder.post(edit_url(prototype), good_data(**extra))
    assert response.status_code == 200
    assert response.context["tiers"].non_form_errors()
    assert snapshot(prototype) == before


def test_editing_in_an_archived_project_is_refused_and_writes_nothing(founder, prototype):
    Project.objects.filter(pk=prototype.project_id).update(status="archived")
    before = snapshot(prototype)
    response = founder.post(edit_url(prototype), good_data())
    assert response.status_code == 200
    assert any("archived" in e for e in response.context["form"].non_field_errors())
    assert snapshot(prototype) == before


def test_editing_a_missing_version_is_404(founder, prototype):
    assert founder.get(reverse("prototype-edit", args=[prototype.project_id, 9])).status_code == 404


# --- The service on its own (the same rules whoever calls it) ----------------------------------


def test_prototype_update_keeps_fields_it_is_not_given(prototype):
    before = snapshot(prototype)
    updated = prototype_update(prototype=prototype, data={"headline": "Only this changes"})
    assert updated.headline == "Only this changes"
    assert {k: v for k, v in snapshot(prototype).items() if k != "headline"} == {
        k: v for k, v in before.items() if k != "headline"
    }


def test_prototype_update_refuses_a_bad_period_by_field(prototype):
    from django.core.exceptions import ValidationError

    tiers = [{"name": "Solo", "price": "9", "period": "fortnight", "features": []}]
    with pytest.raises(ValidationError) as caught:
        prototype_update(prototype=prototype, data={"pricing_tiers": tiers})
    assert caught.value.message_dict == {
        "pricing_tiers": ["Pricing tier 1, period: expected one of month, year, one-time."]
    }


def test_an_edited_version_says_the_founder_edited_it(founder, prototype):
    list_url = reverse("prototype-list", args=[prototype.project_id])
    assert "edited by you" not in founder.get(list_url).content.decode()
    founder.post(edit_url(prototype), good_data())
    prototype.refresh_from_db()
    assert prototype.edited_at is not None
    html = founder.get(list_url).content.decode()
    assert "Written by the built-in generator; edited by you on" in html
    earlier = Prototype.objects.get(project=prototype.project, version=1)
    assert earlier.edited_at is None

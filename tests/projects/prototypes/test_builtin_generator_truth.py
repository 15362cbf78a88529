"""The builtin generator says only what the project states (#22, item 14): how the product is
delivered and billed come from the project, the copy claims no other delivery or billing (and
none at all when the project does not say), and each regeneration is another angle on the same
facts, deterministic for a given seed.

From the outside: projects made and regenerated through the API, the copy read from its answers;
the forbidden phrases are the one list in projects.generation.drafts."""

import html
import re
from dataclasses import asdict
from decimal import Decimal

import pytest
from django.test import Client

from projects.generation import BuiltinGenerator, IdeaInput
from projects.generation.drafts import BILLING_CLAIMS, BILLINGS, DELIVERIES, DELIVERY_CLAIMS
from projects.models import Project
from tests.factories import UserFactory
from tests.security.test_auth_api import assert_error_shape

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limits")]

# Says nothing of delivery or billing itself, so every claim in the copy is the generator's.
PROJECT = {
    "name": "InvoiceBuddy",
    "idea_description": (
        "Helps freelancers track invoices and get paid faster. "
        "Sends payment reminders automatically, syncs with your bank, and shows cash flow forecasts "
        "for the next 90 days."
    ),
    "target_audience": "freelance designers",
    "price_point": "19.00",
    "currency": "USD",
    "business_model": "saas",
}
# Enough regenerations to go through every headline, subheadline, button and benefit order.
REGENERATIONS = 8


def _create(client, **fields) -> int:
    response = client.post("/api/projects/", {**PROJECT, **fields}, format="json")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def _regenerate(client, project_id: int) -> dict:
    response = client.post(f"/api/projects/{project_id}/generate-prototype")
    assert response.status_code == 201, response.content
    return response.json()


def _visible_copy(prototype: dict) -> str:
    """Every word of the prototype a visitor reads, as the landing page prints it (a tier's
    period as "/month" or "/year", nothing for "one-time"), lower case."""
    parts = [
        prototype["headline"],
        prototype["subheadline"],
        html.unescape(re.sub(r"<[^>]+>", " ", prototype["value_proposition"])),
        prototype["call_to_action"],
        *prototype["features"],
    ]
    for tier in prototype["pricing_tiers"]:
        parts += [tier["name"], *tier["features"]]
        if tier["period"] != "one-time":
            parts.append(f"/{tier['period']}")
    return " ".join(parts).lower()


def _claims(text: str, kinds: dict[str, tuple[str, ...]], allowed: str) -> list[tuple[str, str]]:
    """The phrases in `text` that claim a kind other than `allowed`."""
    others = [(kind, phrase) for kind, phrases in kinds.items() if kind != allowed for phrase in phrases]
    return [(kind, phrase) for kind, phrase in others if phrase in text]


@pytest.mark.parametrize("billing", BILLINGS)
@pytest.mark.parametrize("delivery", DELIVERIES)
def test_the_copy_claims_no_delivery_or_billing_the_project_does_not_have(auth_api_client, delivery, billing):
    project_id = _create(auth_api_client, delivery=delivery, billing=billing)
    for _ in range(REGENERATIONS):
        copy = _visible_copy(_regenerate(auth_api_client, project_id))
        assert _claims(copy, DELIVERY_CLAIMS, delivery) == [], copy
        assert _claims(copy, BILLING_CLAIMS, billing) == [], copy


@pytest.mark.parametrize(
    ("delivery", "billing", "claims"),
    [
        # The two contradictions of the issue, now told the truth.
        ("mobile_app", "subscription", ("app for your phone", "a month")),
        ("physical", "subscription", ("physical product", "a month")),
        ("web_app", "one_time", ("nothing to install", "paid once")),
        ("course", "usage", ("course", "what you use")),
    ],
)
def test_the_copy_states_the_delivery_and_billing_it_was_given(auth_api_client, delivery, billing, claims):
    """Every angle says it, whatever the seed (the project's id is one of its parts, so each
    database gives other seeds: several regenerations cover several angles)."""
    project_id = _create(auth_api_client, delivery=delivery, billing=billing)
    for _ in range(6):
        copy = _visible_copy(_regenerate(auth_api_client, project_id))
        for phrase in claims:
            assert phrase in copy, copy


def test_twelve_regenerations_offer_different_angles(auth_api_client):
    project_id = _create(auth_api_client, delivery="mobile_app", billing="subscription")
    prototypes = [_regenerate(auth_api_client, project_id) for _ in range(12)]
    headlines = [p["headline"] for p in prototypes]
    assert len(set(headlines)) >= 8, headlines  # every angle this idea supports, before repeating
    assert all(a != b for a, b in zip(headlines, headlines[1:], strict=False))  # never the same twice running
    assert len({p["call_to_action"] for p in prototypes}) == 3
    assert len({p["subheadline"] for p in prototypes}) == 2
    # Deterministic: version n of a project is the generator's copy for seed = project id + n - 1.
    project = Project.objects.get(pk=project_id)
    for version, prototype in enumerate(prototypes, start=1):
        idea = IdeaInput(
            name=project.name,
            idea_description=project.idea_description,
            target_audience=project.target_audience,
            price_point=project.price_point,
            currency=project.currency,
            business_model=project.business_model,
            delivery=project.delivery,
            billing=project.billing,
            seed=project_id + version - 1,
        )
        assert prototype["headline"] == BuiltinGenerator().generate(idea).headline


def test_each_seed_pins_its_headline():
    idea = IdeaInput(
        name="InvoiceBuddy",
        idea_description=PROJECT["idea_description"],
        target_audience="freelance designers",
        price_point=Decimal("19"),
        currency="USD",
        business_model="saas",
        delivery="mobile_app",
        billing="subscription",
    )
    headlines = [BuiltinGenerator().generate(IdeaInput(**{**asdict(idea), "seed": seed})).headline for seed in range(9)]
    assert headlines == [
        "InvoiceBuddy: the mobile app for freelance designers",
        "InvoiceBuddy: helps freelancers track invoices and get paid faster",
        "InvoiceBuddy: sends payment reminders automatically",
        "Meet InvoiceBuddy, made for freelance designers",
        "Freelance designers, meet InvoiceBuddy",
        "Be among the first freelance designers to try InvoiceBuddy",
        "InvoiceBuddy: built around what freelance designers need",
        "Made for freelance designers: InvoiceBuddy",
        "InvoiceBuddy: the mobile app for freelance designers",
    ]


def test_existing_projects_state_nothing_and_the_copy_claims_nothing(auth_api_client):
    """A project made before the fields (or without them) is "unspecified", and so is its copy."""
    project_id = _create(auth_api_client)
    body = auth_api_client.get(f"/api/projects/{project_id}/").json()
    assert (body["delivery"], body["billing"]) == ("unspecified", "unspecified")
    copy = _visible_copy(_regenerate(auth_api_client, project_id))
    assert _claims(copy, DELIVERY_CLAIMS, "") == [] and _claims(copy, BILLING_CLAIMS, "") == []


# --- the fields through the API and the admin ---------------------------------------------------


@pytest.mark.parametrize(("field", "value"), [("delivery", "hologram"), ("billing", "barter"), ("delivery", "")])
def test_a_bad_choice_is_a_400_beside_the_field(auth_api_client, field, value):
    response = auth_api_client.post("/api/projects/", {**PROJECT, field: value}, format="json")
    error = assert_error_shape(response, 400, "validation_error")
    assert field in error["fields"]
    assert Project.objects.count() == 0


def test_the_fields_are_created_read_and_edited_through_the_api(auth_api_client):
    project_id = _create(auth_api_client, delivery="physical", billing="subscription")
    body = auth_api_client.get(f"/api/projects/{project_id}/").json()
    assert (body["delivery"], body["billing"]) == ("physical", "subscription")
    response = auth_api_client.patch(f"/api/projects/{project_id}/", {"billing": "one_time"}, format="json")
    assert response.status_code == 200
    # Read again: the test client runs the cache invalidation after the PATCH's own response.
    assert auth_api_client.get(f"/api/projects/{project_id}/").json()["billing"] == "one_time"
    response = auth_api_client.patch(f"/api/projects/{project_id}/", {"delivery": "teleport"}, format="json")
    assert "delivery" in assert_error_shape(response, 400, "validation_error")["fields"]
    assert Project.objects.values_list("delivery", "billing").get() == ("physical", "one_time")


def test_staff_see_and_edit_the_fields_in_the_admin(auth_api_client):
    project_id = _create(auth_api_client, delivery="course", billing="one_time")
    staff = Client()
    staff.force_login(UserFactory(is_staff=True, is_superuser=True))
    form = staff.get(f"/admin/projects/project/{project_id}/change/").content.decode()
    assert 'name="delivery"' in form and 'name="billing"' in form
    listing = staff.get("/admin/projects/project/?delivery__exact=course").content.decode()
    assert "InvoiceBuddy" in listing and "One-time purchase" in listing

"""An experiment built from page variants, as visitors see it: an arm shows every field its page
variant changed (headline, subheadline, body, benefits, call to action, price), the control shows
the page; through the public page, over HTTP, from the cached HTML and from the form's error path."""

import re
from decimal import Decimal

import pytest

from projects.models import CtaKind, ExperimentStatus
from projects.selectors.variants import variant_values
from projects.services.experiments import experiment_create, experiment_create_from_page
from projects.services.pages import landing_page_update
from projects.services.variants import variant_create, variant_update
from tests.factories import ProjectFactory, generate_and_publish
from tests.projects.conftest import signup_post_data
from tests.projects.experiments.helpers import browser, visitor_in

pytestmark = pytest.mark.django_db

B_CHANGES = {
    "headline": "Stop chasing invoices by hand",
    "subheadline": "Paid on time, every time",
    "value_proposition": "<p>Reminders that <strong>sound like you</strong>.</p>",
    "features": ["Polite nudges", "One-click payment links"],
    "cta_text": "Get paid faster",
}


def features(html: str) -> list[str]:
    section = re.search(r'<section class="features">(.*?)</section>', html, re.S)
    return re.findall(r"<li>(.*?)</li>", section.group(1)) if section else []


@pytest.fixture
def experiment(user):
    page = generate_and_publish(ProjectFactory(owner=user), slug="chaser")
    variant = variant_create(page=page, name="Pain")
    variant_update(variant=variant, name="Pain", values={**variant_values(page=page, variant=variant), **B_CHANGES})
    return experiment_create_from_page(
        page=page,
        name="Pain headline",
        arms={"a": 1, "b": 1},
        coverage=Decimal("1"),
        minimum_detectable_effect=Decimal("0.2"),
        start=True,
    )


def test_a_visitor_of_arm_b_sees_bs_copy_and_the_control_sees_the_page(experiment):
    assert experiment.status == ExperimentStatus.RUNNING
    page = experiment.page
    for _ in range(2):  # rendered, then from the cached HTML
        b = browser(visitor_in(experiment, 1)).get(f"/p/{page.slug}/").content.decode()
        assert "<h1>Stop chasing invoices by hand</h1>" in b
        assert '<p class="sub">Paid on time, every time</p>' in b
        assert "<strong>sound like you</strong>" in b
        assert features(b) == ["Polite nudges", "One-click payment links"]
        assert 'data-track="cta">Get paid faster</a>' in b
        a = browser(visitor_in(experiment, 0)).get(f"/p/{page.slug}/").content.decode()
        assert f"<h1>{page.headline}</h1>" in a and "Stop chasing" not in a
        assert features(a) == page.features and "Polite nudges" not in a
        assert "sound like you" not in a


def test_the_arm_keeps_its_snapshot_and_follows_the_page_elsewhere(experiment):
    page = experiment.page
    landing_page_update(page=page, data={"cta_kind": CtaKind.PREORDER, "preorder_price": Decimal("19.00")})
    b = browser(visitor_in(experiment, 1)).get(f"/p/{page.slug}/").content.decode()
    assert "Buy now for $19<" in b  # a field the variant did not change: the page's
    assert "<h1>Stop chasing invoices by hand</h1>" in b


def test_the_form_error_path_shows_the_arms_copy_too(experiment):
    page = experiment.page
    visitor = browser(visitor_in(experiment, 1))
    visitor.get(f"/p/{page.slug}/")
    response = visitor.post(f"/p/{page.slug}/signup", signup_post_data(visitor, email="not an email"))
    assert response.status_code == 400
    html = response.content.decode()
    assert features(html) == ["Polite nudges", "One-click payment links"]
    assert "<h1>Stop chasing invoices by hand</h1>" in html


def test_an_arm_s_changes_are_cleaned_whoever_passes_them_so_no_script_reaches_the_public_page(user):
    """The service cleans an arm's overrides itself: a caller passing raw values (not a saved page
    variant) cannot put markup the page's own rules refuse onto the public page."""
    page = generate_and_publish(ProjectFactory(owner=user), slug="raw-arm")
    raw = {
        "value_proposition": '<p onclick="steal()">Hi<script>alert(1)</script></p>',
        "headline": "<b>Bold</b> claim",
        "theme": "not a variant field",
    }
    experiment = experiment_create(
        page=page,
        name="Raw",
        variants=[
            {"key": "a", "weight": 1, "is_control": True},
            {"key": "b", "weight": 1, "overrides": raw},
        ],
    )
    kept = experiment.variants.get(key="b").overrides
    assert "script" not in kept["value_proposition"] and "onclick" not in kept["value_proposition"]
    assert "<b>" not in kept["headline"]
    assert "theme" not in kept

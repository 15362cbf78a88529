"""The migration test_card_locked_by and the cards locked before it (issue 22, item 6): a card no
cold person has seen (the founder's own first look locked it) opens again; the others keep their
terms as they stand, so nothing later changes them."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from tests.factories import UserFactory

BEFORE = [("projects", "0014_held_signups")]
AFTER = [("projects", "0015_test_card_locked_by")]


@pytest.mark.django_db(transaction=True)
def test_cards_locked_before_keep_their_terms_or_open_again():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Project, Page = old.get_model("projects", "Project"), old.get_model("projects", "LandingPage")
    Card, Rollup = old.get_model("projects", "TestCard"), old.get_model("projects", "DailyRollup")
    Campaign = old.get_model("projects", "Campaign")
    owner = UserFactory()  # the security app is not migrated back: its table is today's
    cards = {}
    for name, traffic in (("seen", "human"), ("founder only", "founder")):
        project = Project.objects.create(
            owner_id=owner.pk,
            name=name,
            idea_description="A tool that helps freelancers chase late invoices.",
            price_point="29.00",
            currency="USD",
            business_model="saas",
        )
        page = Page.objects.create(project=project, slug=name.replace(" ", "-"), headline="h")
        today = timezone.now().date()
        Rollup.objects.create(page=page, day=today, channel="paid", traffic=traffic, views=3, visitors=3)
        Campaign.objects.create(project=project, name="Ads", platform="meta", budget="10", utm_campaign="ads")
        cards[name] = Card.objects.create(project=project, locked_at=timezone.now()).pk

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps.get_model("projects", "TestCard")
    seen = new.objects.get(pk=cards["seen"])
    assert seen.locked_at is not None and seen.locked_by_event == ""
    assert seen.locked_terms == {
        "idea": "seen", "channel": "paid_social", "price": 29.0, "currency": "USD", "business_model": "saas",
        "expected_cpc": None, "overrides": {},
    }  # fmt: skip
    opened = new.objects.get(pk=cards["founder only"])
    assert opened.locked_at is None and opened.locked_terms is None

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

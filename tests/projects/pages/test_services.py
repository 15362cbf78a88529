"""Landing page services: one active page per slug, and a refused slug change writes nothing."""

import pytest
from django.core.exceptions import ValidationError

from projects.models.pages import LandingPage
from projects.services.pages import landing_page_archive, landing_page_create, landing_page_update
from projects.services.prototypes import prototype_generate
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db


def test_one_active_page_per_slug_is_enforced_by_the_database(live_page):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        LandingPage.objects.create(
            project=live_page.project, slug="CHASER", headline="h", value_proposition="v", cta_text="c"
        )
    # An archived page frees its slug.
    landing_page_archive(page=live_page)
    page = landing_page_create(project=live_page.project, slug="chaser")
    assert page.slug == "chaser"


def test_publish_refuses_when_another_page_took_the_slug_and_writes_nothing(project, live_page):
    other = ProjectFactory(owner=project.owner)
    prototype_generate(project=other)
    page = landing_page_create(project=other, slug="mine")
    LandingPage.objects.filter(pk=page.pk).update(slug="other-slug")
    with pytest.raises(ValidationError):
        landing_page_update(page=page, data={"slug": "chaser"})
    page.refresh_from_db()
    assert page.slug == "other-slug" and page.content_version == 1

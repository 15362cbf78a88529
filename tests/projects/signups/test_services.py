"""Signup services: refused and duplicate signups write nothing; confirming and unsubscribing."""

import pytest
from django.core.exceptions import ValidationError

from mvpvalidator.exceptions import ConflictError
from projects.models.signups import Signup
from projects.services.pages import landing_page_create
from projects.services.prototypes import prototype_generate
from projects.services.signups import signup_confirm, signup_create, signup_unsubscribe

pytestmark = pytest.mark.django_db


def test_signup_on_unpublished_page_is_refused(project):
    prototype_generate(project=project)
    page = landing_page_create(project=project)
    with pytest.raises(ConflictError):
        signup_create(page=page, email="a@example.com")
    assert Signup.objects.count() == 0


def test_duplicate_signup_returns_the_first_and_writes_nothing(live_page):
    first = signup_create(page=live_page, email="a@example.com", name="First")
    second = signup_create(page=live_page, email=" A@EXAMPLE.com ", name="Second")
    assert first.created and not second.created
    assert second.signup.pk == first.signup.pk
    assert Signup.objects.get().name == "First"


def test_signup_invalid_email_writes_nothing(live_page):
    with pytest.raises(ValidationError):
        signup_create(page=live_page, email="nope")
    assert Signup.objects.count() == 0


def test_confirm_then_unsubscribe_keeps_both_times(live_page):
    signup = signup_create(page=live_page, email="a@example.com").signup
    signup = signup_confirm(signup=signup)
    confirmed_at = signup.confirmed_at
    signup = signup_unsubscribe(signup=signup)
    assert signup.confirmed_at == confirmed_at and signup.unsubscribed_at is not None
    assert not signup.is_confirmed

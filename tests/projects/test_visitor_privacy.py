"""What the public signup form gives away to whoever fills it in: nothing about who else signed
up, and no way to make the platform mail an address someone else's text."""

import pytest
from django.test import Client

from projects.models import Signup
from tests.projects.conftest import send_due_emails, signup_post_data

pytestmark = pytest.mark.django_db


def _sign_up(email: str, **fields):
    visitor = Client(HTTP_USER_AGENT="Mozilla/5.0 Chrome/131")
    visitor.get("/p/chaser/")
    response = visitor.post("/p/chaser/signup", signup_post_data(visitor, email=email, **fields))
    assert response.status_code == 302
    return response, visitor.get(response["Location"])


def test_signing_up_an_address_already_on_the_list_looks_exactly_like_a_new_signup(live_page):
    _sign_up("listed@example.com")
    new, new_page = _sign_up("new@example.com")
    again, again_page = _sign_up("Listed@example.com")
    assert again["Location"] == new["Location"] == "/p/chaser/thanks"
    assert again_page.status_code == new_page.status_code == 200
    assert again_page.content == new_page.content
    assert Signup.objects.filter(email="listed@example.com").count() == 1


def test_the_confirmation_email_carries_no_text_the_visitor_typed(smtp_relay, live_page):
    _sign_up(
        "victim@example.com",
        name="Your account is locked, call +1 555 0100 or visit evil.example",
        qualifying_answer="see evil.example",
    )
    assert send_due_emails() == 1
    [message] = smtp_relay.messages
    text = message.as_string() + message.get_payload(decode=True).decode()
    assert "evil.example" not in text and "555 0100" not in text and "locked" not in text
    assert "/p/chaser/confirm/" in text  # still the email it was

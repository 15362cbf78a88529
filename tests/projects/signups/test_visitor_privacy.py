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


def _post(email: str, **fields):
    visitor = Client(HTTP_USER_AGENT="Mozilla/5.0 Chrome/131")
    visitor.get("/p/chaser/")
    return visitor.post("/p/chaser/signup", signup_post_data(visitor, email=email, **fields))


@pytest.mark.parametrize(
    "email",
    [
        '"a\x01b"@example.com',  # a control character in a quoted local part
        "a\u200b@example.com",  # zero-width space
        "\u202eliame@example.com",  # right-to-left override
        "a\ufeff@example.com",  # byte order mark
    ],
)
def test_an_address_with_invisible_characters_is_refused_beside_the_field_and_nothing_is_stored(live_page, email):
    response = _post(email)
    assert response.status_code == 400
    html = response.content.decode()
    errors = html.split('id="email-errors"', 1)[1].split("</div>", 1)[0]
    assert "invisible or control characters" in errors
    assert Signup.objects.count() == 0


def test_other_spellings_of_an_address_are_the_same_signup(live_page):
    assert _post("ann@example.com").status_code == 302
    for spelling in ("Ann@EXAMPLE.com", "\uff41nn@\uff45xample.com", "  ann@example.com "):
        assert _post(spelling).status_code == 302
    assert list(Signup.objects.values_list("email", flat=True)) == ["ann@example.com"]


@pytest.mark.parametrize(
    ("first", "second", "stored"),
    [
        ("ann@ex\u00e4mple.com", "ann@xn--exmple-cua.com", "ann@xn--exmple-cua.com"),
        ("ann@xn--exmple-cua.com", "Ann@EX\u00c4MPLE.com", "ann@xn--exmple-cua.com"),
        ("ann@\u4f8b\u3048\u3002\u30c6\u30b9\u30c8", "ann@xn--r8jz45g.xn--zckzah", "ann@xn--r8jz45g.xn--zckzah"),
    ],
)
def test_each_pair_of_spellings_of_one_address_is_one_signup(live_page, first, second, stored):
    for email in (first, second):  # the second answered like any duplicate: the thank-you page
        assert _post(email)["Location"] == "/p/chaser/thanks"
    assert list(Signup.objects.values_list("email", flat=True)) == [stored]


def test_a_domain_is_kept_as_typed_not_mapped_to_another_domain(live_page):
    # IDNA 2003 (Python's idna codec) would make straße.de strasse.de, another registered domain.
    for email in ("ann@stra\u00dfe.de", "ann@strasse.de"):
        assert _post(email)["Location"] == "/p/chaser/thanks"
    assert sorted(Signup.objects.values_list("email", flat=True)) == ["ann@strasse.de", "ann@xn--strae-oqa.de"]


@pytest.mark.parametrize(
    ("email", "error"),
    [
        ('"ann"@example.com', "without quotation marks"),
        ('"ann smith"@example.com', "without quotation marks"),
        ('ann"@example.com', "without quotation marks"),
        ("\uff02ann\uff02@example.com", "without quotation marks"),  # full-width quotation marks
        ("ann@[192.0.2.1]", "a domain name after the @"),
        ("ann@[IPv6:2001:db8::1]", "a domain name after the @"),
        ("ann@ex\u00e4mple..com", "not a domain name mail can be sent to"),
        ("ann@" + "\u00e4" * 60 + ".com", "not a domain name mail can be sent to"),  # its xn-- label is too long
    ],
)
def test_a_refused_spelling_gets_an_error_beside_the_field_and_nothing_is_stored(live_page, email, error):
    response = _post(email)
    assert response.status_code == 400
    errors = response.content.decode().split('id="email-errors"', 1)[1].split("</div>", 1)[0]
    assert error in errors
    assert Signup.objects.count() == 0
    assert _post("ann@example.com").status_code == 302  # typed plainly, it is a signup


def test_invisible_characters_are_stripped_from_what_the_visitor_typed(live_page):
    response = _post(
        "bidi@example.com",
        name="Ann\u202e\u200bgnirts\u2066x\u2069",
        qualifying_answer="Sheets\u200d and\ufeff paper",
        utm_source="goo\u200bgle",
    )
    assert response.status_code == 302
    signup = Signup.objects.get()
    assert (signup.name, signup.qualifying_answer, signup.utm_source) == ("Anngnirtsx", "Sheets and paper", "google")

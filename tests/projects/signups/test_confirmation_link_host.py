"""The confirmation email's links point where the visitor can follow them (#22, item 15): in
development (DEBUG, no PUBLIC_BASE_URL) at the host and port the signup was served on, although
the worker sends the email later without a request; in production at PUBLIC_BASE_URL, whatever
Host header the signup came with."""

import re

import pytest
from django.core import mail

from tests.projects.conftest import send_due_emails, signup_post_data

pytestmark = pytest.mark.django_db


def _signup_through(client, host: str) -> None:
    response = client.post("/p/chaser/signup", signup_post_data(client), HTTP_HOST=host)
    assert response.status_code == 302, response.content


def _links() -> list[str]:
    assert send_due_emails() == 1
    return re.findall(r"https?://\S+", mail.outbox[-1].body)


@pytest.fixture
def development(settings):
    settings.DEBUG = True
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8000"  # the unset default
    settings.PUBLIC_BASE_URL_SET = False
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]", "testserver"]


def test_in_development_the_links_follow_the_port_the_signup_was_served_on(client, live_page, development):
    _signup_through(client, "localhost:8123")
    confirm, unsubscribe = _links()
    assert confirm.startswith("http://localhost:8123/p/chaser/confirm/")
    assert unsubscribe.startswith("http://localhost:8123/p/chaser/unsubscribe/")
    # The link works on that server.
    path = confirm.removeprefix("http://localhost:8123")
    page = client.get(path, HTTP_HOST="localhost:8123")
    assert page.status_code == 200 and "Confirm my email" in page.content.decode()


def test_in_development_a_set_public_base_url_still_wins(client, live_page, development, settings):
    settings.PUBLIC_BASE_URL, settings.PUBLIC_BASE_URL_SET = "https://dev.example.com", True
    _signup_through(client, "localhost:8123")
    assert all(link.startswith("https://dev.example.com/p/chaser/") for link in _links())


def test_in_production_the_links_use_public_base_url_never_the_host_header(client, live_page, settings):
    settings.DEBUG = False
    settings.PUBLIC_BASE_URL, settings.PUBLIC_BASE_URL_SET = "https://mvp.example.com", True
    settings.ALLOWED_HOSTS = ["mvp.example.com", "other.example.com"]
    _signup_through(client, "other.example.com")
    links = _links()
    assert len(links) == 2
    assert all(link.startswith("https://mvp.example.com/p/chaser/") for link in links)

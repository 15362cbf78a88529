"""Generating with a model in a real browser: the progress box appears, htmx polls it, and the
page reloads itself with the model's copy when the job is done; no console error on the way."""

import json

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse

from tests.browser import browser_page_fixture, chromium_browser_fixture  # noqa: F401


@pytest.mark.django_db(transaction=True)
def test_the_progress_box_polls_until_the_models_copy_appears(
    live_server, browser_page, user, project, openai_server, settings
):
    from tests.fake_openai import MODEL, Reply, chat_reply
    from tests.projects.prototypes.test_generation import good_draft

    settings.OPENAI_TIMEOUT_SECONDS = 10.0
    # Slow enough that the box is seen running before the copy arrives.
    body = chat_reply(json.dumps(good_draft(headline="Straight from the model"))).body
    openai_server.script(Reply(body=body, delay=2.5))
    signed_in = Client()
    signed_in.force_login(user)
    page = browser_page
    page.context.add_cookies(
        [
            {
                "name": django_settings.SESSION_COOKIE_NAME,
                "value": signed_in.cookies[django_settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type in ("error", "warning") else None)

    page.goto(live_server.url + reverse("prototype-list", args=[project.pk]))
    page.get_by_role("button", name="Generate your first copy").click()
    box = page.locator("#prototype-job")
    assert box.get_attribute("hx-trigger") == "load delay:1500ms"
    assert page.get_by_role("link", name="Refresh").count() == 1

    page.get_by_text("Straight from the model").wait_for(timeout=15_000)
    assert page.get_by_text(f"Written by {MODEL}").count() == 1
    assert box.get_attribute("hx-trigger") is None  # done: the box no longer polls
    assert problems == []

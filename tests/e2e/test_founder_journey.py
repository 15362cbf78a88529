"""The README's promise, over real HTTP against a running server: with the demo login a founder
creates a project, generates a prototype, publishes the page; a visitor opens it and signs up;
the founder downloads the signups CSV."""

import csv
import io
import re
import time

import httpx
import pytest
from django.core.management import call_command

from projects.demo import DEMO_FOUNDER
from projects.forms.public import MIN_FILL_SECONDS


@pytest.mark.django_db(transaction=True)
def test_founder_journey_from_idea_to_signups_csv(live_server, monkeypatch):
    call_command("seed_demo", stdout=io.StringIO())
    api = httpx.Client(base_url=live_server.url, timeout=10)

    tokens = api.post("/api/auth/token", json={"email": DEMO_FOUNDER.email, "password": DEMO_FOUNDER.password})
    assert tokens.status_code == 200
    api.headers["Authorization"] = f"Bearer {tokens.json()['access']}"

    project = api.post(
        "/api/projects/",
        json={
            "name": "Plant Sitter",
            "idea_description": "Neighbours water your plants while you travel, booked in two taps.",
            "target_audience": "City renters who travel",
            "price_point": "12.00",
            "business_model": "service",
        },
    ).json()
    prototype = api.post(f"/api/projects/{project['id']}/generate-prototype").json()
    page = api.post(f"/api/projects/{project['id']}/landing-pages", json={"slug": "plant-sitter"}).json()
    published = api.post(f"/api/landing-pages/{page['id']}/publish").json()
    assert published["status"] == "published"

    # A visitor's browser: cookies kept, the form read from the page and posted back.
    visitor = httpx.Client(base_url=live_server.url, timeout=10, follow_redirects=True)
    landing = visitor.get(published["public_url"] + "?utm_source=reddit")
    assert landing.status_code == 200
    assert prototype["headline"] in landing.text
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', landing.text))
    time.sleep(MIN_FILL_SECONDS + 0.1)  # a person takes a moment to type
    thanks = visitor.post(
        f"/p/{published['slug']}/signup",
        data={**fields, "email": "visitor@example.com", "consent": "on", "website": ""},
        headers={"Referer": live_server.url + published["public_url"]},
    )
    assert thanks.status_code == 200
    assert "Thank you" in thanks.text

    visitor.close()
    export = api.get(f"/api/projects/{project['id']}/signups.csv")
    api.close()
    assert export.status_code == 200
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert [(r["email"], r["utm_source"], r["landing_page"]) for r in rows] == [
        ("visitor@example.com", "reddit", "plant-sitter")
    ]

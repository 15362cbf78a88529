"""The campaign screens through HTTP: the list, create and edit with every error beside its field
and nothing written, start / pause / complete (POST only, conflicts as messages), and who may see
what (another founder's campaign is a 404, an anonymous visitor is sent to sign in)."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from projects.models import Campaign
from projects.services.campaigns import campaign_create, spend_today
from projects.services.pages import landing_page_create, landing_page_publish
from projects.services.projects import project_archive
from tests.factories import ProjectFactory, UserFactory, generate_and_publish

pytestmark = pytest.mark.django_db


@pytest.fixture
def founder(user):
    client = Client()
    client.force_login(user)
    return client


def _campaign(project, **overrides):
    fields = {"name": "Autumn search", "platform": "google", "budget": "300", "utm_campaign": "autumn", **overrides}
    return campaign_create(project=project, **fields)


def _form(**overrides):
    return {
        "name": "Autumn search",
        "platform": "google",
        "budget": "300.00",
        "starts_on": "",
        "ends_on": "",
        "utm_campaign": "",
        **overrides,
    }


def _field_error(html: str, field: str) -> str:
    """The error list Django renders beside a field (its id ends in _error)."""
    match = re.search(rf'<ul class="errorlist" id="id_{field}_error">(.*?)</ul>', html, re.S)
    assert match, f"no error beside {field}"
    return re.sub(r"<[^>]+>", "", match[1]).strip()


# --- The list ------------------------------------------------------------------------------------


def test_the_empty_list_explains_what_a_campaign_is_for(founder, project):
    response = founder.get(reverse("campaign-list", args=[project.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "No campaign yet" in html and "ads you pay for" in html
    assert reverse("campaign-create", args=[project.pk]) in html
    assert 'aria-current="page">Campaigns<' in html


def test_the_list_shows_each_campaign_with_its_budget_spend_and_status(founder, project):
    campaign = _campaign(project, starts_on=spend_today()[0] - timedelta(days=3))
    html = founder.get(reverse("campaign-list", args=[project.pk])).content.decode()
    assert "Autumn search" in html and "Google Ads" in html and "Draft" in html
    assert "300.00 USD" in html
    assert reverse("campaign-detail", args=[project.pk, campaign.pk]) in html
    assert "no spend yet" in html
    assert f"From {campaign.starts_on:%-d %b %Y}" in html


def test_the_hub_links_to_the_campaigns(founder, project):
    html = founder.get(reverse("project-detail", args=[project.pk])).content.decode()
    assert reverse("campaign-list", args=[project.pk]) in html


# --- Create and edit ------------------------------------------------------------------------------


def test_a_campaign_is_created_with_its_tag_made_from_the_name(founder, project):
    response = founder.post(reverse("campaign-create", args=[project.pk]), _form(name="Autumn search, EU"))
    campaign = Campaign.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("campaign-detail", args=[project.pk, campaign.pk])
    assert (campaign.name, campaign.platform, str(campaign.budget), campaign.utm_campaign) == (
        "Autumn search, EU",
        "google",
        "300.00",
        "autumn-search-eu",
    )


def test_a_typed_tag_is_kept_as_a_slug(founder, project):
    founder.post(reverse("campaign-create", args=[project.pk]), _form(utm_campaign="Black Friday 2026"))
    assert Campaign.objects.get().utm_campaign == "black-friday-2026"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"platform": "tiktok"}, "platform", "Select a valid choice"),
        ({"budget": "-1"}, "budget", "greater than or equal to 0"),
        ({"budget": "abc"}, "budget", "Enter a number."),
        ({"budget": "1.234"}, "budget", "2 decimal places"),
        ({"starts_on": "2026-11-10", "ends_on": "2026-11-01"}, "ends_on", "The end comes before the start."),
        ({"starts_on": "someday"}, "starts_on", "Enter a valid date."),
        ({"name": "!!!", "utm_campaign": ""}, "utm_campaign", "letters, numbers, hyphens"),
        ({"utm_campaign": "!!!"}, "utm_campaign", "letters, numbers, hyphens"),
    ],
)
def test_each_error_is_beside_its_field_and_nothing_is_written(founder, project, overrides, field, message):
    response = founder.post(reverse("campaign-create", args=[project.pk]), _form(**overrides))
    html = response.content.decode()
    assert response.status_code == 400
    assert message in _field_error(html, field)
    assert "Nothing was saved" in html
    assert Campaign.objects.count() == 0


def test_a_tag_another_campaign_uses_is_refused_beside_the_tag(founder, project):
    _campaign(project)
    response = founder.post(reverse("campaign-create", args=[project.pk]), _form(name="Again", utm_campaign="Autumn"))
    assert response.status_code == 400
    assert "uses this utm_campaign value" in _field_error(response.content.decode(), "utm_campaign")
    assert Campaign.objects.count() == 1


def test_amounts_are_in_the_projects_currency(founder, user):
    project = ProjectFactory(owner=user, currency="EUR")
    response = founder.post(reverse("campaign-create", args=[project.pk]), _form(budget="1000.505"))
    assert response.status_code == 400
    html = response.content.decode()
    assert "What you plan to spend in all, in EUR." in html
    assert "2 decimal places" in _field_error(html, "budget")
    assert founder.post(reverse("campaign-create", args=[project.pk]), _form(budget="1000.5")).status_code == 302
    html = founder.get(reverse("campaign-list", args=[project.pk])).content.decode()
    assert "1,000.50 EUR" in html


def test_the_edit_form_is_filled_in_and_saves(founder, project):
    campaign = _campaign(project)
    url = reverse("campaign-edit", args=[project.pk, campaign.pk])
    html = founder.get(url).content.decode()
    assert 'value="Autumn search"' in html and 'value="autumn"' in html and 'value="300.00"' in html
    response = founder.post(url, _form(name="Renamed", platform="meta", budget="450", utm_campaign="autumn"))
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert (campaign.name, campaign.platform, str(campaign.budget), campaign.utm_campaign) == (
        "Renamed",
        "meta",
        "450.00",
        "autumn",
    )


def test_a_bad_edit_changes_nothing(founder, project):
    campaign = _campaign(project)
    url = reverse("campaign-edit", args=[project.pk, campaign.pk])
    response = founder.post(url, _form(name="Renamed", starts_on="2026-11-10", ends_on="2026-11-01"))
    assert response.status_code == 400
    assert "The end comes before the start." in _field_error(response.content.decode(), "ends_on")
    campaign.refresh_from_db()
    assert campaign.name == "Autumn search" and campaign.starts_on is None


def test_a_completed_campaign_cannot_be_edited_and_says_so(founder, project):
    campaign = _campaign(project)
    founder.post(reverse("campaign-start", args=[project.pk, campaign.pk]))
    founder.post(reverse("campaign-complete", args=[project.pk, campaign.pk]), {"confirm": "yes"})
    response = founder.post(reverse("campaign-edit", args=[project.pk, campaign.pk]), _form(name="Later"))
    assert response.status_code == 400
    assert "A completed campaign cannot be edited." in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.name == "Autumn search"


# --- Moves --------------------------------------------------------------------------------------


def test_start_pause_resume_and_complete(founder, project):
    campaign = _campaign(project)
    detail = reverse("campaign-detail", args=[project.pk, campaign.pk])
    for action, status, text in [
        ("campaign-start", "active", "The campaign is active."),
        ("campaign-pause", "paused", "The campaign is paused."),
        ("campaign-start", "active", "The campaign is active."),
        ("campaign-complete", "completed", "The campaign is complete"),
    ]:
        data = {"confirm": "yes"} if action == "campaign-complete" else {}
        response = founder.post(reverse(action, args=[project.pk, campaign.pk]), data, follow=True)
        assert response.redirect_chain[-1][0] == detail
        assert text in response.content.decode()
        campaign.refresh_from_db()
        assert campaign.status == status
    assert campaign.starts_on == spend_today()[0]


def test_complete_asks_first_and_completes_only_once_confirmed(founder, project):
    campaign = _campaign(project)
    founder.post(reverse("campaign-start", args=[project.pk, campaign.pk]))
    complete = reverse("campaign-complete", args=[project.pk, campaign.pk])
    detail = reverse("campaign-detail", args=[project.pk, campaign.pk])
    # The screen's Complete button posts no confirmation: it brings the question, a plain page (no script needed).
    button = re.search(
        rf'<form method="post" action="{complete}"[^>]*>(.*?)</form>', founder.get(detail).content.decode()
    )
    assert button and 'name="confirm"' not in button[1]
    asked = founder.post(complete)
    html = asked.content.decode()
    assert asked.status_code == 200 and f"Complete “{campaign.name}”?" in html
    assert "cannot be started again and takes no more spend" in html
    confirm = re.search(rf'<form method="post" action="{complete}"[^>]*>(.*?)</form>', html, re.S)
    assert confirm and '<input type="hidden" name="confirm" value="yes">' in confirm[1]
    assert f'<a class="button secondary" href="{detail}">Cancel</a>' in confirm[1]
    campaign.refresh_from_db()
    assert campaign.status == "active"  # asking changed nothing
    assert founder.post(complete, {"confirm": "no"}).status_code == 200
    campaign.refresh_from_db()
    assert campaign.status == "active"
    response = founder.post(complete, {"confirm": "yes"}, follow=True)
    assert response.redirect_chain[-1][0] == detail and "The campaign is complete" in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == "completed"


def test_complete_on_a_campaign_that_cannot_complete_says_why_without_asking(founder, project):
    campaign = _campaign(project)  # a draft
    response = founder.post(reverse("campaign-complete", args=[project.pk, campaign.pk]), follow=True)
    assert "A draft campaign cannot become completed." in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == "draft"


def test_the_confirmed_complete_needs_the_csrf_token(user, project):
    campaign = _campaign(project)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    campaign.status = "active"
    campaign.save()
    url = reverse("campaign-complete", args=[project.pk, campaign.pk])
    assert client.post(url, {"confirm": "yes"}).status_code == 403
    campaign.refresh_from_db()
    assert campaign.status == "active"


def test_a_move_the_state_machine_refuses_is_a_message_and_changes_nothing(founder, project):
    campaign = _campaign(project)
    response = founder.post(reverse("campaign-pause", args=[project.pk, campaign.pk]), follow=True)
    assert "A draft campaign cannot become paused." in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == "draft"


@pytest.mark.parametrize(
    "action", ["campaign-start", "campaign-pause", "campaign-complete", "campaign-spend", "campaign-spend-upload"]
)
def test_post_only_actions_refuse_get(founder, project, action):
    campaign = _campaign(project)
    assert founder.get(reverse(action, args=[project.pk, campaign.pk])).status_code == 405
    campaign.refresh_from_db()
    assert campaign.status == "draft"


def test_moves_need_the_csrf_token(user, project):
    campaign = _campaign(project)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.post(reverse("campaign-start", args=[project.pk, campaign.pk])).status_code == 403
    campaign.refresh_from_db()
    assert campaign.status == "draft"


# --- Who may see what ------------------------------------------------------------------------------


def _every_url(project, campaign):
    return [
        ("get", reverse("campaign-list", args=[project.pk])),
        ("get", reverse("campaign-create", args=[project.pk])),
        ("get", reverse("campaign-detail", args=[project.pk, campaign.pk])),
        ("get", reverse("campaign-edit", args=[project.pk, campaign.pk])),
        ("post", reverse("campaign-edit", args=[project.pk, campaign.pk])),
        ("post", reverse("campaign-start", args=[project.pk, campaign.pk])),
        ("post", reverse("campaign-pause", args=[project.pk, campaign.pk])),
        ("post", reverse("campaign-complete", args=[project.pk, campaign.pk])),
        ("post", reverse("campaign-spend", args=[project.pk, campaign.pk])),
        ("post", reverse("campaign-spend-upload", args=[project.pk, campaign.pk])),
    ]


def test_another_founders_campaigns_are_404_and_untouched(founder, project):
    other = ProjectFactory(owner=UserFactory())
    campaign = _campaign(other)
    for method, url in _every_url(other, campaign):
        assert getattr(founder, method)(url, _form(name="Hijack") if method == "post" else None).status_code == 404, url
    campaign.refresh_from_db()
    assert (campaign.name, campaign.status) == ("Autumn search", "draft")
    assert campaign.spend.count() == 0


def test_a_campaign_under_another_project_of_the_same_founder_is_404(founder, user, project):
    campaign = _campaign(project)
    second = ProjectFactory(owner=user)
    assert founder.get(reverse("campaign-detail", args=[second.pk, campaign.pk])).status_code == 404
    assert founder.post(reverse("campaign-start", args=[second.pk, campaign.pk])).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(project):
    campaign = _campaign(project)
    client = Client()
    for method, url in _every_url(project, campaign):
        response = getattr(client, method)(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), url
    campaign.refresh_from_db()
    assert campaign.status == "draft"


def test_the_campaign_screen_has_a_link_only_once_a_page_is_published(founder, project):
    campaign = _campaign(project)
    url = reverse("campaign-detail", args=[project.pk, campaign.pk])
    assert "Publish a landing page first" in founder.get(url).content.decode()
    generate_and_publish(project, slug="chaser")
    html = founder.get(url).content.decode()
    assert "/p/chaser/?utm_source=google&amp;utm_medium=cpc&amp;utm_campaign=autumn" in html
    assert "Google Ads adds gclid" in html and "keep it on" in html


def test_with_several_published_pages_the_founder_chooses_the_page_and_names_the_ad(founder, project):
    campaign = _campaign(project, platform="meta")
    generate_and_publish(project, slug="first")
    second = landing_page_publish(page=landing_page_create(project=project, slug="second"))
    url = reverse("campaign-detail", args=[project.pk, campaign.pk])
    html = founder.get(url).content.decode()
    assert 'name="page"' in html and "/p/first/?utm_source=facebook&amp;utm_medium=paid_social" in html
    html = founder.get(url, {"page": second.pk, "utm_content": "Carousel 2"}).content.decode()
    assert (
        "/p/second/?utm_source=facebook&amp;utm_medium=paid_social&amp;utm_campaign=autumn&amp;utm_content=Carousel%202"
        in html
    )
    assert "Meta Ads adds fbclid" in html
    # An unknown page falls back to the first; a page of another project is never offered.
    other = generate_and_publish(ProjectFactory(owner=UserFactory()), slug="not-yours")
    html = founder.get(url, {"page": other.pk}).content.decode()
    assert "/p/first/?" in html and "not-yours" not in html


def test_an_archived_project_takes_no_new_campaign_and_says_why(founder, project):
    project_archive(project=project)
    html = founder.get(reverse("campaign-list", args=[project.pk])).content.decode()
    assert "No campaign yet" in html and reverse("campaign-create", args=[project.pk]) not in html
    response = founder.post(reverse("campaign-create", args=[project.pk]), _form())
    assert response.status_code == 400
    assert "Cannot add a campaign: the project is archived." in response.content.decode()
    assert Campaign.objects.count() == 0

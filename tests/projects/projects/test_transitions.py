"""The status state machines the models declare, and the one check every status move goes
through: what each refusal says (the API's error body carries the code, message and extra)."""

from decimal import Decimal

import pytest

from mvpvalidator.exceptions import ConflictError
from projects.models.campaigns import CAMPAIGN_TRANSITIONS, CampaignStatus
from projects.models.experiments import EXPERIMENT_TRANSITIONS, ExperimentStatus
from projects.models.projects import PROJECT_TRANSITIONS, Project, ProjectStatus
from projects.services.campaigns import campaign_create, campaign_move
from projects.services.projects import project_archive, project_update

pytestmark = pytest.mark.django_db


def test_every_status_has_its_moves_declared():
    for status_class, transitions in (
        (ProjectStatus, PROJECT_TRANSITIONS),
        (ExperimentStatus, EXPERIMENT_TRANSITIONS),
        (CampaignStatus, CAMPAIGN_TRANSITIONS),
    ):
        assert set(transitions.moves) == set(status_class.values)
        assert all(to in status_class.values for moves in transitions.moves.values() for to in moves)


def test_a_project_is_open_until_completed_or_archived():
    open_states = {s for s in ProjectStatus.values if PROJECT_TRANSITIONS.allows(s, s)}
    assert open_states == {ProjectStatus.DRAFT, ProjectStatus.PROTOTYPE_READY, ProjectStatus.LIVE}
    completable = {s for s in ProjectStatus.values if PROJECT_TRANSITIONS.allows(s, ProjectStatus.COMPLETED)}
    assert completable == open_states


def test_a_completed_project_can_be_archived_but_not_edited(project):
    Project.objects.filter(pk=project.pk).update(status="completed", completed_at=project.created_at)
    project.refresh_from_db()
    with pytest.raises(ConflictError) as info:
        project_update(project=project, data={"name": "New"})
    assert info.value.code == "invalid_project_state"
    assert info.value.message == "Cannot edit the project: the project is completed."
    assert info.value.extra == {}
    assert project_archive(project=project).status == ProjectStatus.ARCHIVED


def test_a_refused_campaign_move_names_the_status_and_the_allowed_moves(project):
    campaign = campaign_create(
        project=project, name="Search", platform="google", budget=Decimal("100"), utm_campaign="search"
    )
    with pytest.raises(ConflictError) as info:
        campaign_move(campaign=campaign, to=CampaignStatus.PAUSED)
    assert info.value.code == "invalid_campaign_state"
    assert info.value.message == "A draft campaign cannot become paused."
    assert info.value.extra == {"status": "draft", "allowed": ["active"]}
    campaign_move(campaign=campaign, to=CampaignStatus.ACTIVE)
    campaign_move(campaign=campaign, to=CampaignStatus.COMPLETED)
    with pytest.raises(ConflictError) as info:
        campaign_move(campaign=campaign, to=CampaignStatus.ACTIVE)
    assert info.value.extra == {"status": "completed", "allowed": []}

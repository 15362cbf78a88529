"""Confirmed signups in analytics (review of issue 24, item 3): counted as the report and the
campaign summary count them (confirmed and not unsubscribed since), and each confirmed signup's
variant given to the experiment running when the person signed up, to the second."""

from datetime import timedelta

import pytest
from django.utils import timezone

from projects.models import Experiment, ExperimentStatus, Signup, Traffic
from projects.selectors.events import project_analytics
from projects.services.experiments import experiment_create, experiment_move
from projects.services.signups import signup_confirm, signup_unsubscribe

pytestmark = pytest.mark.django_db


def signup(page, email: str, *, at=None, variant: str = "", confirmed: bool = True) -> Signup:
    row = Signup.objects.create(
        project=page.project, landing_page=page, email=email, variant=variant, channel="direct",
        traffic=Traffic.HUMAN, consent=True, consent_at=timezone.now(),
    )  # fmt: skip
    if at is not None:
        Signup.objects.filter(pk=row.pk).update(created_at=at)
    if confirmed:
        row = signup_confirm(signup=row)
    return row


def answer(project, group_by: str = "day") -> dict:
    today = timezone.now().date()
    return project_analytics(
        project=project, since=today - timedelta(days=6), until=today, group_by=group_by, live=False
    )


def test_an_unsubscribed_signup_is_not_confirmed_any_more(project, live_page):
    for n in range(3):
        signup(live_page, f"c{n}@example.com")
    signup(live_page, "never@example.com", confirmed=False)
    assert answer(project)["totals"]["confirmed"] == 3
    signup_unsubscribe(signup=Signup.objects.get(email="c0@example.com"))
    # The report's and the campaign summary's definition: confirmed and still subscribed.
    still = Signup.objects.filter(project=project, confirmed_at__isnull=False, unsubscribed_at__isnull=True).count()
    assert answer(project)["totals"]["confirmed"] == still == 2
    assert answer(project, "channel")["rows"][0]["confirmed"] == 2


def test_on_the_day_one_experiment_replaces_another_each_signup_keeps_its_own(project, live_page):
    """The first experiment completed at 10:00 today and the next started at 10:00: a signup of
    09:00 with "control" is the first's, one of 11:00 the second's (by dates alone both were the
    second's)."""
    now = timezone.now()
    ten = now.replace(hour=10, minute=0, second=0, microsecond=0)
    if ten > now:
        ten -= timedelta(days=1)
    first = experiment_create(page=live_page, name="First", variants=[{"key": "control"}, {"key": "b"}])
    experiment_move(experiment=first, to=ExperimentStatus.RUNNING)
    experiment_move(experiment=first, to=ExperimentStatus.COMPLETED)
    Experiment.objects.filter(pk=first.pk).update(started_at=ten - timedelta(days=3), completed_at=ten)
    second = experiment_create(page=live_page, name="Second", variants=[{"key": "control"}, {"key": "c"}])
    experiment_move(experiment=second, to=ExperimentStatus.RUNNING)
    Experiment.objects.filter(pk=second.pk).update(started_at=ten)
    signup(live_page, "before@example.com", at=ten - timedelta(hours=1), variant="control")
    signup(live_page, "after@example.com", at=ten + timedelta(minutes=1), variant="control")
    signup(live_page, "earlier@example.com", at=ten - timedelta(days=1), variant="b")
    confirmed = {(r["experiment_id"], r["variant"]): r["confirmed"] for r in answer(project, "variant")["rows"]}
    assert confirmed == {(first.pk, "control"): 1, (second.pk, "control"): 1, (first.pk, "b"): 1}

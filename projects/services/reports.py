"""Writes of demand reports and of the test card they are judged against."""

import json
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from mvpvalidator.exceptions import ConflictError
from projects.analysis.channels import COLD_CHANNELS, paid_card_channel
from projects.analysis.test_card import build_test_card
from projects.cache import invalidate_on_commit
from projects.models.events import Event, EventKind, Traffic
from projects.models.pages import LandingPage
from projects.models.projects import PROJECT_TRANSITIONS, Project, ProjectStatus
from projects.models.reports import ReportSnapshot, TestCard
from projects.selectors.campaigns import campaign_platforms
from projects.selectors.reports import test_card_terms
from projects.services.locks import lock_project

FINAL_VERDICTS = frozenset({"validated", "not validated"})


@transaction.atomic
def report_snapshot_create(*, project: Project, report: dict[str, Any]) -> ReportSnapshot:
    """Keep a report with its inputs. A final verdict completes the project and records it."""
    project = lock_project(project)
    snapshot = ReportSnapshot.objects.create(
        project=project,
        verdict=str(report["verdict"])[:20],
        score=report.get("score"),
        data=json.loads(json.dumps(report, cls=DjangoJSONEncoder)),
    )
    if report["verdict"] in FINAL_VERDICTS and PROJECT_TRANSITIONS.allows(project.status, ProjectStatus.COMPLETED):
        project.status = ProjectStatus.COMPLETED
        project.completed_at = timezone.now()
        project.verdict = report["verdict"]
        project.save(update_fields=["status", "completed_at", "verdict", "updated_at"])
        invalidate_on_commit(owner_id=project.owner_id, project_id=project.pk, listing=True)
    return snapshot


# --- The test card ----------------------------------------------------------------------------


def _card_channel(project: Project) -> str:
    # Blank: the channel most of the cold traffic comes from, until the founder names one. With
    # campaigns, their paid channel (the same rule as the report's: projects.analysis.channels).
    platforms = campaign_platforms(project=project)
    return paid_card_channel(platforms) if platforms else ""


def test_card_write(*, project: Project) -> TestCard:
    """The project's test card, written on its first launch (an existing card is kept)."""
    card, _ = TestCard.objects.get_or_create(project=project, defaults={"channel": _card_channel(project)})
    return card


@transaction.atomic
def test_card_update(*, project: Project, data: dict[str, Any]) -> TestCard:
    """Channel, expected cost per click and bars, until the card locks (409 after: `test_cards_lock`)."""

    project = lock_project(project)
    card = TestCard.objects.select_for_update().filter(project=project).first() or TestCard(
        project=project, channel=_card_channel(project)
    )
    if card.locked_at is not None:
        raise ConflictError(
            "The test card is locked: a cold visitor has seen the page, and the verdict is judged against what "
            "the card promised.",
            code="test_card_locked",
        )
    unknown = set(data) - {"channel", "expected_cpc", "overrides"}
    if unknown:
        raise ValidationError({name: ["This field cannot be changed."] for name in sorted(unknown)})
    for name, value in data.items():
        setattr(card, name, value)
    try:
        build_test_card(
            idea=project.name,
            channel=card.channel or "direct",
            price=float(project.price_point) or 0.01,
            currency=project.currency,
            business_model=project.business_model,
            expected_cpc=float(card.expected_cpc) if card.expected_cpc else None,
            overrides=card.overrides,
        )
    except ValueError as exc:
        field = "overrides" if "override" in str(exc) or card.overrides else "channel"
        raise ValidationError({field: [str(exc)]}) from exc
    card.save()
    invalidate_on_commit(owner_id=project.owner_id, project_id=project.pk)
    return card


def _locks_test_card(event: Event) -> bool:
    """A page view of a cold visitor who is a person and not the founder: their traffic is what
    the card promised to judge, so seeing it ends the founder's chance to move the bars. The
    founder's own looks (preview link, or signed in as the owner or staff: `Traffic.FOUNDER`),
    known bots and warm visitors (own list, referrals) lock nothing."""
    return event.kind == EventKind.VIEW and event.traffic == Traffic.HUMAN and event.channel in COLD_CHANNELS


def test_cards_lock(*, events: Iterable[Event]) -> int:
    """Lock the test card of every project whose first locking page view (`_locks_test_card`) is
    among `events`: the card keeps its terms as they stand (`selectors.reports.test_card_terms`),
    when (the view's time) and by which visit (event key, visitor hash, channel) it locked. A
    locked card is never written again. Called by the event worker inside its rollup
    transaction, which rolls up one batch at a time, oldest first; returns how many cards locked."""
    first: dict[int, Event] = {}
    for event in events:
        if _locks_test_card(event):
            seen = first.get(event.page_id)
            if seen is None or (event.occurred_at, event.pk) < (seen.occurred_at, seen.pk):
                first[event.page_id] = event
    if not first:
        return 0
    # One query while every card is locked already (the usual case after a page's first visitor);
    # the row lock waits for a founder's edit in progress (`test_card_update`), which then sees
    # the lock and refuses.
    pages: dict[int, list[int]] = {}
    for page_id, project_id in LandingPage.objects.filter(
        pk__in=list(first), project__test_card__isnull=False, project__test_card__locked_at__isnull=True
    ).values_list("pk", "project_id"):
        pages.setdefault(project_id, []).append(page_id)
    if not pages:
        return 0
    cards = list(
        TestCard.objects.select_for_update(of=("self",))
        .filter(project_id__in=list(pages), locked_at__isnull=True)
        .select_related("project")
    )
    for card in cards:
        by = min((first[p] for p in pages[card.project_id]), key=lambda e: (e.occurred_at, e.pk))
        card.locked_terms = test_card_terms(project=card.project, stored=card)
        card.locked_at = by.occurred_at
        card.locked_by_event = by.key
        card.locked_by_visitor = by.visitor_hash
        card.locked_by_channel = by.channel
        card.save(
            update_fields=["locked_terms", "locked_at", "locked_by_event", "locked_by_visitor", "locked_by_channel"]
        )
        invalidate_on_commit(owner_id=card.project.owner_id, project_id=card.project_id)
    return len(cards)

"""Writes of demand reports and of the test card they are judged against."""

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from mvpvalidator.exceptions import ConflictError
from projects.analysis.channels import paid_card_channel
from projects.analysis.test_card import build_test_card
from projects.cache import invalidate_on_commit
from projects.models.projects import PROJECT_TRANSITIONS, Project, ProjectStatus
from projects.models.reports import ReportSnapshot, TestCard
from projects.selectors.campaigns import campaign_platforms
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
    """Channel, expected cost per click and bars, until traffic arrives (409 after)."""

    project = lock_project(project)
    card = TestCard.objects.select_for_update().filter(project=project).first() or TestCard(
        project=project, channel=_card_channel(project)
    )
    if card.locked_at is not None:
        raise ConflictError(
            "The test card is locked: traffic has arrived, and the verdict is judged against what it promised.",
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


def test_cards_lock(*, page_ids: set[int]) -> int:
    """People have seen these pages: the test cards of their projects are locked from now on
    (the verdict is judged against what the card promised before any traffic). Called by the
    event worker inside its rollup transaction; returns how many cards were locked."""
    if not page_ids:
        return 0
    return TestCard.objects.filter(project__landing_pages__in=page_ids, locked_at__isnull=True).update(
        locked_at=timezone.now()
    )

"""Writes of campaigns and their spend: create, edit, delete in draft, the moves of
`CAMPAIGN_TRANSITIONS`, and the spend import (rows or a CSV file)."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from mvpvalidator import cache as app_cache
from mvpvalidator.exceptions import ApplicationError, ConflictError
from projects.analysis import spend_csv
from projects.cache import page_ns, project_ns
from projects.models.campaigns import CAMPAIGN_TRANSITIONS, Campaign, CampaignSpend, CampaignStatus
from projects.models.pages import LandingPage
from projects.models.projects import Project
from projects.services.locks import lock_project
from projects.services.transitions import require_open, transition_check
from security.sanitize import sanitize_text

CAMPAIGN_FIELDS = ("name", "platform", "budget", "starts_on", "ends_on", "utm_campaign")


def _campaign_changed(campaign: Campaign, *, ties: bool = False) -> None:
    names = [project_ns(campaign.project_id)]
    if ties:
        # What ties a visitor to a campaign (its tag, its platform) is part of the project's
        # public pages' cached data (`selectors.pages.public_page`): they must see the change.
        pages = LandingPage.objects.filter(project_id=campaign.project_id).values_list("slug", flat=True)
        names.extend(page_ns(slug) for slug in pages)
    transaction.on_commit(lambda: app_cache.bump(*names))


def _save_campaign(campaign: Campaign) -> None:
    campaign.full_clean(exclude=["project"], validate_unique=False, validate_constraints=False)
    if campaign.ends_on and campaign.starts_on and campaign.ends_on < campaign.starts_on:
        raise ValidationError({"ends_on": ["The end comes before the start."]})
    clash = Campaign.objects.filter(project_id=campaign.project_id, utm_campaign=campaign.utm_campaign)
    if clash.exclude(pk=campaign.pk).exists():
        raise ValidationError({"utm_campaign": ["Another campaign of this project uses this utm_campaign value."]})
    try:
        with transaction.atomic():
            campaign.save()
    except IntegrityError as exc:  # a concurrent create with the same tag
        raise ValidationError(
            {"utm_campaign": ["Another campaign of this project uses this utm_campaign value."]}
        ) from exc


@transaction.atomic
def campaign_create(
    *, project: Project, name: str, platform: str, budget: Decimal, utm_campaign: str, **fields: Any
) -> Campaign:
    project = lock_project(project)
    require_open(project, "add a campaign")
    unknown = set(fields) - {"starts_on", "ends_on"}
    if unknown:
        raise ValidationError({name_: ["Unknown field."] for name_ in sorted(unknown)})
    campaign = Campaign(
        project=project,
        name=sanitize_text(name, max_length=120),
        platform=platform,
        budget=budget,
        utm_campaign=slugify(utm_campaign)[:100],
        **fields,
    )
    if not campaign.utm_campaign:
        raise ValidationError(
            {"utm_campaign": ["Enter the utm_campaign value the ads carry (letters, numbers, hyphens)."]}
        )
    _save_campaign(campaign)
    _campaign_changed(campaign, ties=True)
    return campaign


@transaction.atomic
def campaign_update(*, campaign: Campaign, data: dict[str, Any]) -> Campaign:
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    unknown = set(data) - set(CAMPAIGN_FIELDS)
    if unknown:
        raise ValidationError({name: ["This field cannot be changed."] for name in sorted(unknown)})
    if campaign.status == CampaignStatus.COMPLETED:
        raise ConflictError("A completed campaign cannot be edited.", code="invalid_campaign_state")
    for name, value in data.items():
        if name == "name":
            value = sanitize_text(value, max_length=120)
        elif name == "utm_campaign":
            value = slugify(value)[:100]
            if not value:
                raise ValidationError({"utm_campaign": ["Enter a utm_campaign value (letters, numbers, hyphens)."]})
        setattr(campaign, name, value)
    _save_campaign(campaign)
    _campaign_changed(campaign, ties="utm_campaign" in data or "platform" in data)
    return campaign


@transaction.atomic
def campaign_delete(*, campaign: Campaign) -> None:
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status != CampaignStatus.DRAFT:
        raise ConflictError("Only a draft campaign can be deleted; complete it instead.", code="invalid_campaign_state")
    _campaign_changed(campaign, ties=True)
    campaign.delete()


@transaction.atomic
def campaign_move(*, campaign: Campaign, to: str) -> Campaign:
    """Start, pause, resume or complete: only the moves of CAMPAIGN_TRANSITIONS."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    transition_check(campaign, transitions=CAMPAIGN_TRANSITIONS, to=to)
    campaign.status = to
    if to == CampaignStatus.ACTIVE and campaign.starts_on is None:
        campaign.starts_on = timezone.now().date()
    campaign.save(update_fields=["status", "starts_on", "updated_at"])
    _campaign_changed(campaign)
    return campaign


@dataclass(frozen=True)
class SpendImport:
    created: int
    updated: int


def spend_today() -> tuple[date, str]:
    """Today for spend, and the name of its time zone: the server's (settings.TIME_ZONE; a project has
    no time zone of its own), the one ad platforms' reports are entered in on this platform."""
    return timezone.localdate(), timezone.get_current_timezone_name()


@transaction.atomic
def spend_import(*, campaign: Campaign, rows: list[spend_csv.SpendRow]) -> SpendImport:
    """Store a day's figures per row, overwriting the day if it is there: importing the same rows
    twice leaves the same rows. All or nothing (one transaction). Every way spend comes in (the
    screen's day and file, the API's rows and file, the command) passes here, and here the spend-date
    rules are enforced (`spend_csv.day_error`: inside the campaign's dates, not after today
    (`spend_today`), not older than `spend_csv.OLDEST_SPEND_DAYS`): a bad day refuses the whole
    import with a `SpendFileError` naming its line and the field "date"."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status == CampaignStatus.COMPLETED:
        raise ConflictError("A completed campaign takes no more spend.", code="invalid_campaign_state")
    today, zone = spend_today()
    bad_days = [
        error
        for r in rows
        if (
            error := spend_csv.day_error(
                r.date, today=today, zone=zone, line=r.line, starts_on=campaign.starts_on, ends_on=campaign.ends_on
            )
        )
    ]
    if bad_days:
        raise SpendFileError(bad_days)
    existing = {s.date: s for s in CampaignSpend.objects.filter(campaign=campaign, date__in=[r.date for r in rows])}
    created, updated = [], []
    for row in rows:
        spend = existing.get(row.date)
        if spend is None:
            created.append(
                CampaignSpend(
                    campaign=campaign, date=row.date, spend=row.spend, impressions=row.impressions, clicks=row.clicks
                )
            )
        else:
            spend.spend, spend.impressions, spend.clicks = row.spend, row.impressions, row.clicks
            updated.append(spend)
    CampaignSpend.objects.bulk_create(created)
    CampaignSpend.objects.bulk_update(updated, ["spend", "impressions", "clicks", "updated_at"])
    _campaign_changed(campaign)
    return SpendImport(created=len(created), updated=len(updated))


def spend_import_csv(*, campaign: Campaign, data: bytes | str) -> SpendImport:
    """A spend file: every bad line named (ValidationError with `lines`), nothing imported then."""
    today, zone = spend_today()
    rows, errors = spend_csv.parse(data, starts_on=campaign.starts_on, ends_on=campaign.ends_on, today=today, zone=zone)
    if errors:
        raise SpendFileError(errors)
    return spend_import(campaign=campaign, rows=rows)


class SpendFileError(ApplicationError):
    """A spend file with bad lines: none of it is imported."""

    status_code = 400
    default_code = "invalid_spend_file"

    def __init__(self, errors: list[spend_csv.LineError]) -> None:
        super().__init__(
            f"The file has {len(errors)} bad line(s); nothing was imported.",
            extra={"lines": [e.to_dict() for e in errors]},
        )

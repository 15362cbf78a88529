"""Campaigns: paid traffic to a project's pages, its daily spend and its state machine."""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from projects.models.projects import Project
from projects.models.transitions import Transitions


class CampaignPlatform(models.TextChoices):
    GOOGLE = "google", "Google Ads"
    META = "meta", "Meta (Facebook, Instagram)"
    REDDIT = "reddit", "Reddit"
    LINKEDIN = "linkedin", "LinkedIn"
    OTHER = "other", "Other"


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    COMPLETED = "completed", "Completed"


# The campaign's state machine: start, pause, resume or complete.
CAMPAIGN_TRANSITIONS = Transitions(
    moves={
        CampaignStatus.DRAFT: frozenset({CampaignStatus.ACTIVE}),
        CampaignStatus.ACTIVE: frozenset({CampaignStatus.PAUSED, CampaignStatus.COMPLETED}),
        CampaignStatus.PAUSED: frozenset({CampaignStatus.ACTIVE, CampaignStatus.COMPLETED}),
        CampaignStatus.COMPLETED: frozenset(),
    },
    code="invalid_campaign_state",
    refusal="A {status} campaign cannot become {to}.",
)


class Campaign(models.Model):
    """Paid traffic to a project's pages: its spend is set against the visitors and signups that
    arrive with its `utm_campaign` tag (first touch)."""

    Status = CampaignStatus

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="campaigns")
    name = models.CharField(max_length=120)
    platform = models.CharField(max_length=16, choices=CampaignPlatform.choices)
    budget = models.DecimalField(
        max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1e9"))]
    )
    status = models.CharField(max_length=16, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT)
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    # The `utm_campaign` value the ads carry: what ties a visitor to this campaign.
    utm_campaign = models.SlugField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["project", "-created_at"], name="campaign_project_created_idx")]
        constraints = [
            models.UniqueConstraint(fields=["project", "utm_campaign"], name="campaign_utm_unique_per_project"),
            models.CheckConstraint(condition=models.Q(status__in=CampaignStatus.values), name="campaign_status_valid"),
            models.CheckConstraint(
                condition=models.Q(platform__in=CampaignPlatform.values), name="campaign_platform_valid"
            ),
            models.CheckConstraint(condition=models.Q(budget__gte=0), name="campaign_budget_not_negative"),
            models.CheckConstraint(
                condition=models.Q(starts_on__isnull=True)
                | models.Q(ends_on__isnull=True)
                | models.Q(ends_on__gte=models.F("starts_on")),
                name="campaign_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CampaignSpend(models.Model):
    """One day of a campaign's spend, as the ad platform reports it (entered or imported)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="spend")
    date = models.DateField()
    spend = models.DecimalField(
        max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1e9"))]
    )
    impressions = models.PositiveBigIntegerField(default=0)
    clicks = models.PositiveBigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["date"]
        constraints = [
            # One row per day: importing the same file twice leaves the same rows.
            models.UniqueConstraint(fields=["campaign", "date"], name="spend_one_row_per_day"),
            models.CheckConstraint(condition=models.Q(spend__gte=0), name="spend_not_negative"),
            models.CheckConstraint(
                condition=models.Q(clicks__lte=models.F("impressions")) | models.Q(impressions=0),
                name="spend_clicks_within_impressions",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} {self.date} {self.spend}"

"""Reports: the demand reports kept with their inputs, and the test card they are judged against."""

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models

from projects.models.projects import Project


class ReportSnapshot(models.Model):
    """A demand report as it stood, with the inputs it was computed from: founders compare them
    over time, and a final verdict (validated or not) completes the project."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="reports")
    verdict = models.CharField(max_length=20)
    score = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    data = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["project", "-created_at"], name="report_project_created_idx")]

    def __str__(self) -> str:
        return f"{self.project_id} {self.verdict} {self.created_at:%Y-%m-%d}"


class TestCard(models.Model):
    """What the founder promised to test, written when the project's first page goes live: the
    channel, the expected cost per click and any bar the founder set. Locked by the first cold
    visitor who is a person and not the founder (`services.reports.test_cards_lock`): from then on
    the verdict is judged against the terms kept at that moment (`locked_terms`), whatever
    campaigns, traffic or project edits come later (`projects.analysis.test_card`)."""

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="test_card")
    # Blank until the founder names it: then the channel most cold visitors come from.
    channel = models.CharField(max_length=20, blank=True)
    expected_cpc = models.DecimalField(
        max_digits=8, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(Decimal("0.01"))]
    )
    overrides = models.JSONField(default=dict, blank=True)
    written_at = models.DateTimeField(auto_now_add=True)
    # When the card locked: the time of the page view that locked it.
    locked_at = models.DateTimeField(null=True, blank=True)
    # Which visit locked it, without personal data: the event's key, the visitor's hash (the HMAC
    # events keep, never the cookie id) and the channel the visitor came by.
    locked_by_event = models.CharField(max_length=64, blank=True)
    locked_by_visitor = models.CharField(max_length=64, blank=True)
    locked_by_channel = models.CharField(max_length=16, blank=True)
    # The card's terms when it locked (the arguments of `build_test_card` the report used then:
    # idea, channel, price, currency, business model, expected cost per click, overrides). A term
    # still unknown at that moment is null (no price yet; no expected cost per click, so the
    # observed one is used, a fact of the run rather than a promise).
    locked_terms = models.JSONField(null=True, blank=True)

    def __str__(self) -> str:
        return f"test card of {self.project_id}"

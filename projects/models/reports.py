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
    channel, the expected cost per click and any bar the founder set. Locked once traffic
    arrives, so the verdict is judged against what was promised (`projects.analysis.test_card`)."""

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="test_card")
    # Blank until the founder names it: then the channel most cold visitors come from.
    channel = models.CharField(max_length=20, blank=True)
    expected_cpc = models.DecimalField(
        max_digits=8, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(Decimal("0.01"))]
    )
    overrides = models.JSONField(default=dict, blank=True)
    written_at = models.DateTimeField(auto_now_add=True)
    locked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"test card of {self.project_id}"

"""Experiments: A/B tests of a landing page's copy, their variants and their state machine."""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from projects.models.pages import LandingPage
from projects.models.projects import PRICE_MAX
from projects.models.transitions import Transitions

MIN_VARIANTS = 2
MAX_VARIANTS = 5
VARIANT_KEY_MAX_LENGTH = 32


class ExperimentStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    COMPLETED = "completed", "Completed"


# The experiment's state machine: start, pause, resume or complete.
EXPERIMENT_TRANSITIONS = Transitions(
    moves={
        ExperimentStatus.DRAFT: frozenset({ExperimentStatus.RUNNING}),
        ExperimentStatus.RUNNING: frozenset({ExperimentStatus.PAUSED, ExperimentStatus.COMPLETED}),
        ExperimentStatus.PAUSED: frozenset({ExperimentStatus.RUNNING, ExperimentStatus.COMPLETED}),
        ExperimentStatus.COMPLETED: frozenset(),
    },
    code="invalid_experiment_state",
    refusal="A {status} experiment cannot be {to}.",
)


class Experiment(models.Model):
    """An A/B test on one landing page: 2-5 variants of its copy, split by weight.

    A visitor's variant is a pure function of (visitor id, `seed`), so it is sticky without
    storing anything per visitor; for it to stay sticky, the variants, weights, coverage and
    seed are frozen once the experiment has started."""

    Status = ExperimentStatus

    page = models.ForeignKey(LandingPage, on_delete=models.CASCADE, related_name="experiments")
    name = models.CharField(max_length=120)
    hypothesis = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=16, choices=ExperimentStatus.choices, default=ExperimentStatus.DRAFT)
    seed = models.CharField(max_length=32)
    # The share of visitors in the experiment; the others see the page as it is and are not counted.
    coverage = models.DecimalField(
        max_digits=4,
        decimal_places=3,
        default=Decimal("1"),
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("1"))],
    )
    # The smallest relative lift worth detecting: it sizes the sample the results ask for.
    minimum_detectable_effect = models.DecimalField(
        max_digits=5,
        decimal_places=3,
        default=Decimal("0.2"),
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("10"))],
    )
    started_at = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["page", "-created_at"], name="experiment_page_created_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=ExperimentStatus.values), name="experiment_status_valid"
            ),
            # The landing page serves one experiment at a time.
            models.UniqueConstraint(
                fields=["page"], condition=models.Q(status="running"), name="experiment_one_running_per_page"
            ),
            models.CheckConstraint(
                condition=models.Q(coverage__gt=0, coverage__lte=1), name="experiment_coverage_range"
            ),
            models.CheckConstraint(
                condition=models.Q(status="draft") | models.Q(started_at__isnull=False),
                name="experiment_started_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Variant(models.Model):
    """One arm of an experiment: content overrides (blank = the page's own) and a weight."""

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="variants")
    key = models.SlugField(max_length=VARIANT_KEY_MAX_LENGTH)
    name = models.CharField(max_length=120, blank=True)
    is_control = models.BooleanField(default=False)
    weight = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(1000)])
    headline = models.CharField(max_length=120, blank=True)
    subheadline = models.CharField(max_length=240, blank=True)
    cta_text = models.CharField(max_length=60, blank=True)
    preorder_price = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(PRICE_MAX)],
    )
    # The page variant's changed fields (`PageVariant.overrides`, keys from VARIANT_FIELDS) as they
    # stood when the experiment was built from it: the arm shows what was tested, whatever later
    # edits the variant gets. Empty for an arm made through the API's four fields above.
    overrides = models.JSONField(default=dict, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    # Kept by the worker in the transaction that writes the exposures (so always equal to
    # counting them): confirmed people shown this variant, and those of them who signed up. The
    # staff dashboard reads these instead of counting every experiment's exposures.
    people = models.PositiveIntegerField(default=0, editable=False)
    converted = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["experiment", "key"], name="variant_key_unique_per_experiment"),
            models.UniqueConstraint(
                fields=["experiment"], condition=models.Q(is_control=True), name="variant_one_control"
            ),
            models.CheckConstraint(condition=models.Q(weight__gte=1), name="variant_weight_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.experiment} / {self.key}"

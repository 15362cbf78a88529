"""Projects: a founder's idea on its way to a verdict, with its status and its state machine."""

from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinLengthValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Length

from projects.models.transitions import Transitions

if TYPE_CHECKING:
    from security.models import User

IDEA_MIN_LENGTH = 10
IDEA_MAX_LENGTH = 2000
PRICE_MAX = Decimal("10000")


class BusinessModel(models.TextChoices):
    SAAS = "saas", "Software as a service"
    SERVICE = "service", "Service"
    PRODUCT = "product", "Product"
    COURSE = "course", "Course"


class Delivery(models.TextChoices):
    """How the product reaches its customer: what the generated copy may say about it.
    `unspecified` (the default, and what projects made before the field have) says nothing."""

    UNSPECIFIED = "unspecified", "Not stated"
    WEB_APP = "web_app", "Web app"
    MOBILE_APP = "mobile_app", "Mobile app"
    PHYSICAL = "physical", "Physical product"
    SERVICE = "service", "Service"
    COURSE = "course", "Course"


class Billing(models.TextChoices):
    """How the customer pays; like Delivery, `unspecified` lets the copy claim nothing."""

    UNSPECIFIED = "unspecified", "Not stated"
    SUBSCRIPTION = "subscription", "Subscription"
    ONE_TIME = "one_time", "One-time purchase"
    USAGE = "usage", "Pay per use"


class Currency(models.TextChoices):
    USD = "USD", "US dollar"
    EUR = "EUR", "Euro"
    GBP = "GBP", "Pound sterling"
    CAD = "CAD", "Canadian dollar"
    AUD = "AUD", "Australian dollar"


class ProjectStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PROTOTYPE_READY = "prototype_ready", "Prototype ready"
    LIVE = "live", "Live"
    COMPLETED = "completed", "Completed"
    ARCHIVED = "archived", "Archived"


# The project's state machine. A move to the same status is a change of content (an edit, a
# new prototype, a page): a project allows it while it is open, that is until it is completed
# or archived. Archiving is allowed from every other status.
PROJECT_TRANSITIONS = Transitions(
    moves={
        ProjectStatus.DRAFT: frozenset(
            {
                ProjectStatus.DRAFT,
                ProjectStatus.PROTOTYPE_READY,
                ProjectStatus.LIVE,
                ProjectStatus.COMPLETED,
                ProjectStatus.ARCHIVED,
            }
        ),
        ProjectStatus.PROTOTYPE_READY: frozenset(
            {ProjectStatus.PROTOTYPE_READY, ProjectStatus.LIVE, ProjectStatus.COMPLETED, ProjectStatus.ARCHIVED}
        ),
        ProjectStatus.LIVE: frozenset({ProjectStatus.LIVE, ProjectStatus.COMPLETED, ProjectStatus.ARCHIVED}),
        ProjectStatus.COMPLETED: frozenset({ProjectStatus.ARCHIVED}),
        ProjectStatus.ARCHIVED: frozenset(),
    },
    code="invalid_project_state",
    refusal="Cannot {action}: the project is {status}.",
    explain=False,
)


class ProjectQuerySet(models.QuerySet["Project"]):
    def for_owner(self, owner: "User") -> "ProjectQuerySet":
        return self.filter(owner=owner)


class Project(models.Model):
    """A founder's business idea on its way to a verdict."""

    Status = ProjectStatus

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="projects")
    name = models.CharField(max_length=120)
    idea_description = models.TextField(
        validators=[MinLengthValidator(IDEA_MIN_LENGTH), MaxLengthValidator(IDEA_MAX_LENGTH)]
    )
    target_audience = models.CharField(max_length=200, blank=True)
    price_point = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(PRICE_MAX)],
    )
    currency = models.CharField(max_length=3, choices=Currency.choices, default=Currency.USD)
    business_model = models.CharField(max_length=16, choices=BusinessModel.choices)
    # What the landing-page copy needs to be true (the business model says how the numbers are
    # judged, not how the product is delivered: a phone app and a web app are both "saas").
    delivery = models.CharField(max_length=16, choices=Delivery.choices, default=Delivery.UNSPECIFIED)
    billing = models.CharField(max_length=16, choices=Billing.choices, default=Billing.UNSPECIFIED)
    status = models.CharField(max_length=16, choices=ProjectStatus.choices, default=ProjectStatus.DRAFT)
    # Who runs the test, as the public pages' privacy notice names them (the data controller).
    # Blank: the notice uses the owner's name and sign-in email.
    contact_name = models.CharField(max_length=150, blank=True)
    contact_email = models.EmailField(max_length=254, blank=True)
    contact_address = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # The final verdict of the demand report that completed the project (see ReportSnapshot).
    verdict = models.CharField(max_length=20, blank=True)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The owner's list filtered by status, most recently touched first.
            models.Index(fields=["owner", "status", "-updated_at"], name="project_owner_status_upd_idx"),
            # The owner's list, newest first (the API's default order).
            models.Index(fields=["owner", "-created_at", "-id"], name="project_owner_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=ProjectStatus.values), name="project_status_valid"),
            models.CheckConstraint(
                condition=models.Q(business_model__in=BusinessModel.values), name="project_business_model_valid"
            ),
            models.CheckConstraint(condition=models.Q(currency__in=Currency.values), name="project_currency_valid"),
            models.CheckConstraint(condition=models.Q(delivery__in=Delivery.values), name="project_delivery_valid"),
            models.CheckConstraint(condition=models.Q(billing__in=Billing.values), name="project_billing_valid"),
            models.CheckConstraint(
                condition=models.Q(price_point__gte=0, price_point__lte=PRICE_MAX), name="project_price_range"
            ),
            models.CheckConstraint(
                condition=models.lookups.GreaterThanOrEqual(Length("idea_description"), IDEA_MIN_LENGTH)
                & models.lookups.LessThanOrEqual(Length("idea_description"), IDEA_MAX_LENGTH),
                name="project_idea_length",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="completed") | models.Q(completed_at__isnull=False),
                name="project_completed_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.name

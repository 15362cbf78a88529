from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinLengthValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Length, Lower

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


class PageStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
    ARCHIVED = "archived", "Archived"


class CtaKind(models.TextChoices):
    EMAIL = "email", "Email waitlist"
    PREORDER = "preorder", "Pre-order (fake door)"


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
    status = models.CharField(max_length=16, choices=ProjectStatus.choices, default=ProjectStatus.DRAFT)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)

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


class Prototype(models.Model):
    """One generated (or edited) version of the copy for a project; the project keeps them all."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="prototypes")
    version = models.PositiveIntegerField()
    is_current = models.BooleanField(default=True)
    headline = models.CharField(max_length=120)
    subheadline = models.CharField(max_length=240, blank=True)
    value_proposition = models.TextField(max_length=2000)
    features = models.JSONField(default=list)
    pricing_tiers = models.JSONField(default=list)
    call_to_action = models.CharField(max_length=60)
    generator = models.CharField(max_length=80, help_text="Which generator wrote it: builtin or openai:<model>.")
    fallback_reason = models.CharField(max_length=200, blank=True)
    generation_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(fields=["project", "version"], name="prototype_project_version_unique"),
            models.UniqueConstraint(
                fields=["project"], condition=models.Q(is_current=True), name="prototype_one_current_per_project"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project} v{self.version}"


class LandingPage(models.Model):
    """The public page of a project, with the copy it shows and its call to action."""

    Status = PageStatus
    CtaKind = CtaKind

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="landing_pages")
    prototype = models.ForeignKey(
        Prototype, on_delete=models.SET_NULL, null=True, blank=True, related_name="landing_pages"
    )
    slug = models.SlugField(max_length=80)
    status = models.CharField(max_length=16, choices=PageStatus.choices, default=PageStatus.DRAFT)
    headline = models.CharField(max_length=120)
    subheadline = models.CharField(max_length=240, blank=True)
    value_proposition = models.TextField(max_length=2000, help_text="Simple formatting allowed (sanitised).")
    features = models.JSONField(default=list)
    pricing_tiers = models.JSONField(default=list)
    cta_text = models.CharField(max_length=60)
    cta_kind = models.CharField(max_length=16, choices=CtaKind.choices, default=CtaKind.EMAIL)
    preorder_price = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    qualifying_question = models.CharField(max_length=200, blank=True)
    double_opt_in = models.BooleanField(default=True)
    # Bumped on every content change: cached renderings are keyed by it.
    content_version = models.PositiveIntegerField(default=1)
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["project", "-created_at"], name="page_project_created_idx")]
        constraints = [
            # One page per slug among pages that are not archived (an archived page frees its
            # slug); in particular at most one published page answers /p/<slug>/.
            models.UniqueConstraint(
                Lower("slug"), condition=~models.Q(status="archived"), name="landingpage_slug_unique_active"
            ),
            models.CheckConstraint(condition=models.Q(status__in=PageStatus.values), name="landingpage_status_valid"),
            models.CheckConstraint(condition=models.Q(cta_kind__in=CtaKind.values), name="landingpage_cta_kind_valid"),
            models.CheckConstraint(
                condition=~models.Q(cta_kind="preorder")
                | models.Q(preorder_price__isnull=False, preorder_price__gte=0),
                name="landingpage_preorder_has_price",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="published") | models.Q(published_at__isnull=False),
                name="landingpage_published_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.slug

    @property
    def is_public(self) -> bool:
        return self.status == self.Status.PUBLISHED


class Signup(models.Model):
    """A visitor who left an email on a landing page. Stored at once; no raw IP is kept."""

    landing_page = models.ForeignKey(LandingPage, on_delete=models.CASCADE, related_name="signups")
    # The page's project, copied at creation (a page never changes project): the owner's
    # signup list then reads one index range, however deep the page, without a join.
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="signups")
    email = models.EmailField(max_length=254)
    name = models.CharField(max_length=120, blank=True)
    qualifying_answer = models.CharField(max_length=500, blank=True)
    utm_source = models.CharField(max_length=200, blank=True)
    utm_medium = models.CharField(max_length=200, blank=True)
    utm_campaign = models.CharField(max_length=200, blank=True)
    utm_content = models.CharField(max_length=200, blank=True)
    utm_term = models.CharField(max_length=200, blank=True)
    referrer = models.CharField(max_length=500, blank=True)
    consent = models.BooleanField(default=False)
    consent_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    visitor_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The project's signups newest first; (created_at, id) is the keyset for deep pages.
            models.Index(fields=["project", "-created_at", "-id"], name="signup_project_created_idx"),
            # Per-page counts and exports.
            models.Index(fields=["landing_page", "-created_at", "-id"], name="signup_page_created_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["landing_page", "email"], name="signup_email_unique_per_page"),
            models.CheckConstraint(condition=models.Q(email=Lower("email")), name="signup_email_lowercase"),
            models.CheckConstraint(
                condition=models.Q(consent=False) | models.Q(consent_at__isnull=False),
                name="signup_consent_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None and self.unsubscribed_at is None

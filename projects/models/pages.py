"""Landing pages: the public page of a project, its copy and its call to action."""

from django.db import models
from django.db.models.functions import Lower

from projects.models.projects import Project
from projects.models.prototypes import Prototype


class PageStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
    ARCHIVED = "archived", "Archived"


class CtaKind(models.TextChoices):
    EMAIL = "email", "Email waitlist"
    PREORDER = "preorder", "Pre-order (fake door)"


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

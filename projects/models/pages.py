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


class FontPairing(models.TextChoices):
    """A short list of heading/body pairs from the system font stacks: nothing is downloaded
    from a font host (no third party sees the visitors, nothing for the CSP to allow)."""

    SYSTEM = "system", "Clean (system sans)"
    CLASSIC = "classic", "Classic (serif headings, sans body)"
    EDITORIAL = "editorial", "Editorial (serif throughout)"
    TECHNICAL = "technical", "Technical (monospace headings, sans body)"
    ROUNDED = "rounded", "Friendly (rounded sans)"


DEFAULT_ACCENT = "#2563eb"


def upload_path(page: "LandingPage", filename: str) -> str:
    """Uploaded images go under the page's folder with a name the upload service chose (never
    the visitor-facing name the founder's file had)."""
    return f"pages/{page.project_id}/{filename}"


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
    # The checkbox the visitor ticks to be emailed about the product (blank: the default wording).
    consent_text = models.CharField(max_length=200, blank=True)
    # Look: one accent colour ("#rrggbb"), a font pairing, and two optional images, stored
    # through Django's storage API (local files, or S3-compatible storage in production).
    accent_color = models.CharField(max_length=7, default=DEFAULT_ACCENT)
    font_pairing = models.CharField(max_length=16, choices=FontPairing.choices, default=FontPairing.SYSTEM)
    logo = models.ImageField(upload_to=upload_path, blank=True, width_field="logo_width", height_field="logo_height")
    logo_width = models.PositiveIntegerField(null=True, blank=True, editable=False)
    logo_height = models.PositiveIntegerField(null=True, blank=True, editable=False)
    hero_image = models.ImageField(
        upload_to=upload_path, blank=True, width_field="hero_width", height_field="hero_height"
    )
    hero_width = models.PositiveIntegerField(null=True, blank=True, editable=False)
    hero_height = models.PositiveIntegerField(null=True, blank=True, editable=False)
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
                condition=models.Q(font_pairing__in=FontPairing.values), name="landingpage_font_pairing_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(accent_color__regex=r"^#[0-9a-f]{6}$"), name="landingpage_accent_color_hex"
            ),
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


# Fields a variant may change; everything else is the page's own.
VARIANT_FIELDS = ("headline", "subheadline", "value_proposition", "features", "cta_text", "preorder_price")


class PageVariant(models.Model):
    """A copy of a landing page that differs where the founder edited it: `overrides` holds
    only the changed fields (keys from VARIANT_FIELDS), so an edit to the page itself still
    shows in every variant that did not change that field. Experiments are built from these."""

    page = models.ForeignKey(LandingPage, on_delete=models.CASCADE, related_name="variants")
    key = models.SlugField(max_length=40)
    name = models.CharField(max_length=120)
    overrides = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["page", "key"], name="pagevariant_page_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.page_id}:{self.key}"

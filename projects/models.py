from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinLengthValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Coalesce, Length, Lower

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

    # Neither key has an index of its own: each leads a composite index below (and the page
    # the unique constraint), which serves every lookup by it; one more would only cost writes.
    landing_page = models.ForeignKey(LandingPage, on_delete=models.CASCADE, related_name="signups", db_index=False)
    # The page's project, copied at creation (a page never changes project): the owner's
    # signup list then reads one index range, however deep the page, without a join.
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="signups", db_index=False)
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
    # The form token the signup came with (its MAC, which names it): unique, so the same INSERT
    # that stores the signup consumes the token, exactly once, with no round trip of its own.
    # Empty for signups that came without a form (imports, demo data).
    form_token_id = models.CharField(max_length=32, blank=True, default="", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # The confirmation email's outbox: the row is the durable record that an email is owed, so
    # the signup request does no SMTP and a refused send is retried. The event worker sends
    # what is due (`projects.emails`); null means nothing to send (sent, not asked for, or
    # given up on after the last retry).
    confirmation_due_at = models.DateTimeField(null=True, blank=True)
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)
    confirmation_attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The worker's "what is due" read: only rows still owed an email are in it, so it
            # stays tiny however many signups there are.
            models.Index(
                fields=["confirmation_due_at"],
                name="signup_confirmation_due_idx",
                condition=models.Q(confirmation_due_at__isnull=False),
            ),
            # The project's signups newest first; (created_at, id) is the keyset for deep pages.
            models.Index(fields=["project", "-created_at", "-id"], name="signup_project_created_idx"),
            # Per-page counts and exports.
            models.Index(fields=["landing_page", "-created_at", "-id"], name="signup_page_created_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["landing_page", "email"], name="signup_email_unique_per_page"),
            models.UniqueConstraint(
                fields=["form_token_id"],
                condition=~models.Q(form_token_id=""),
                name="signup_form_token_once",
            ),
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


# --- Experiments ---------------------------------------------------------------------------------

MIN_VARIANTS = 2
MAX_VARIANTS = 5
VARIANT_KEY_MAX_LENGTH = 32


class ExperimentStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    COMPLETED = "completed", "Completed"


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


# --- Events and their rollups --------------------------------------------------------------------


class EventKind(models.TextChoices):
    VIEW = "view", "Page view"
    CTA_CLICK = "cta_click", "Call-to-action click"
    SIGNUP = "signup", "Signup"
    PREORDER = "preorder", "Pre-order (fake door)"
    # Sent by the page's script once loaded: the visitor runs JavaScript (the no-JS rule, see
    # `projects.tracking`). Not an interaction: never counted as an event of a visit.
    BEACON = "beacon", "Script beacon"


class Traffic(models.TextChoices):
    HUMAN = "human", "Visitor"
    BOT = "bot", "Known bot"
    FOUNDER = "founder", "The founder (preview)"


class Channel(models.TextChoices):
    DIRECT = "direct", "Direct"
    SEARCH = "search", "Organic search"
    PAID = "paid", "Paid"
    SOCIAL = "social", "Social"
    EMAIL = "email", "Email"
    REFERRAL = "referral", "Referral"


class Event(models.Model):
    """One tracked event, moved here from the Redis buffer by the worker (or written directly
    when Redis is away). Raw rows are kept for EVENT_RETENTION_DAYS; `DailyRollup` and
    `ExperimentExposure` keep the figures for good."""

    # The event's own id, made when it happened (`TrackedEvent.id`): a batch delivered twice
    # after a worker died between its commit and its acknowledgement, or an event both buffered
    # and written directly around a Redis failure, is inserted once.
    key = models.CharField(max_length=64, unique=True)
    page = models.ForeignKey(LandingPage, on_delete=models.CASCADE, related_name="events")
    experiment = models.ForeignKey(Experiment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    variant = models.CharField(max_length=VARIANT_KEY_MAX_LENGTH, blank=True)
    kind = models.CharField(max_length=16, choices=EventKind.choices)
    traffic = models.CharField(max_length=8, choices=Traffic.choices, default=Traffic.HUMAN)
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.DIRECT)
    visitor_hash = models.CharField(max_length=64)
    utm_source = models.CharField(max_length=200, blank=True)
    utm_medium = models.CharField(max_length=200, blank=True)
    utm_campaign = models.CharField(max_length=200, blank=True)
    utm_content = models.CharField(max_length=200, blank=True)
    utm_term = models.CharField(max_length=200, blank=True)
    referrer_host = models.CharField(max_length=255, blank=True)
    occurred_at = models.DateTimeField()
    day = models.DateField()
    rolled_up = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]
        indexes = [
            # The rollup's look-up of a visitor's earlier events that day (unique visitors, bounces).
            models.Index(fields=["page", "visitor_hash", "day"], name="event_page_visitor_day_idx"),
            # The worker's queue: the rows not rolled up yet, oldest first.
            models.Index(fields=["id"], condition=models.Q(rolled_up=False), name="event_unrolled_idx"),
            # Pruning by age.
            models.Index(fields=["occurred_at"], name="event_occurred_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(kind__in=EventKind.values), name="event_kind_valid"),
            models.CheckConstraint(condition=models.Q(traffic__in=Traffic.values), name="event_traffic_valid"),
            models.CheckConstraint(condition=models.Q(channel__in=Channel.values), name="event_channel_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.page_id} {self.occurred_at:%Y-%m-%d %H:%M:%S}"


class DailyRollup(models.Model):
    """A day of one page's traffic for one variant, channel and kind of traffic."""

    page = models.ForeignKey(LandingPage, on_delete=models.CASCADE, related_name="rollups")
    day = models.DateField()
    experiment = models.ForeignKey(Experiment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    variant = models.CharField(max_length=VARIANT_KEY_MAX_LENGTH, blank=True)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    traffic = models.CharField(max_length=8, choices=Traffic.choices)
    views = models.PositiveIntegerField(default=0)
    visitors = models.PositiveIntegerField(default=0)
    cta_clicks = models.PositiveIntegerField(default=0)
    signups = models.PositiveIntegerField(default=0)
    preorders = models.PositiveIntegerField(default=0)
    # Visitors whose only event of the day was one view.
    bounces = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["day", "id"]
        indexes = [models.Index(fields=["page", "day"], name="rollup_page_day_idx")]
        constraints = [
            # The experiment may be NULL (traffic outside any experiment): coalesced, so two
            # such rows of one day cannot both exist (NULLs are distinct in a plain unique index).
            models.UniqueConstraint(
                models.F("page"),
                models.F("day"),
                Coalesce("experiment", models.Value(0)),
                models.F("variant"),
                models.F("channel"),
                models.F("traffic"),
                name="rollup_unique_row",
            ),
            models.CheckConstraint(
                condition=models.Q(bounces__lte=models.F("visitors")), name="rollup_bounces_le_visitors"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.page_id} {self.day} {self.variant or '-'} {self.channel} {self.traffic}"


class ExperimentExposure(models.Model):
    """A person in an experiment: which variant they were shown and what they did. One row per
    visitor, written by the worker; the experiment's results count these rows."""

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="exposures")
    variant = models.CharField(max_length=VARIANT_KEY_MAX_LENGTH)
    visitor_hash = models.CharField(max_length=64)
    first_seen = models.DateTimeField()
    # Ran the page's script or interacted: a person, not a crawler that fetched HTML (the no-JS rule).
    confirmed = models.BooleanField(default=False)
    clicked = models.BooleanField(default=False)
    signed_up = models.BooleanField(default=False)
    preordered = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["experiment", "variant"], name="exposure_exp_variant_idx")]
        constraints = [
            models.UniqueConstraint(fields=["experiment", "visitor_hash"], name="exposure_unique_visitor"),
        ]

    def __str__(self) -> str:
        return f"{self.experiment_id} {self.variant} {self.visitor_hash[:12]}"


class EventWorkerState(models.Model):
    """The single row the rollup step locks: one worker rolls up at a time (so no visitor is
    counted twice by two workers at once), and its last run is the worker's heartbeat."""

    last_rollup_at = models.DateTimeField(null=True, blank=True)
    events_rolled_up = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"rolled up {self.events_rolled_up} events, last at {self.last_rollup_at}"


# --- Campaigns and spend ---------------------------------------------------------------------------


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
    arrives, so the verdict is judged against what was promised (`projects.demand`)."""

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

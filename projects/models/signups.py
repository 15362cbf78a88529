"""Signups: the visitors who left an email on a landing page, and the confirmation email's outbox."""

from django.db import models
from django.db.models.functions import Lower

from projects.models.events import Channel, Traffic
from projects.models.experiments import VARIANT_KEY_MAX_LENGTH
from projects.models.pages import LandingPage
from projects.models.projects import Project


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
    # The rest of the visit's first touch (`projects.events.visit`): the ad platform's click id,
    # the channel the visit was counted in and the variant the visitor saw. Empty for signups
    # stored before they were kept, and for those that came without a visit (imports, demo data).
    click_platform = models.CharField(max_length=16, blank=True)
    click_id = models.CharField(max_length=255, blank=True)
    channel = models.CharField(max_length=16, choices=Channel.choices, blank=True)
    variant = models.CharField(max_length=VARIANT_KEY_MAX_LENGTH, blank=True)
    # Whose signup: a person's, or the founder's own (the owner or staff signed in, or a browser that
    # opened the preview link), kept so every figure can leave the founder's test signups out.
    traffic = models.CharField(max_length=8, choices=Traffic.choices, default=Traffic.HUMAN)
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
    # Development only: the scheme, host and port the signup was served on, so the email's links
    # (sent later by the worker, which has no request) follow a dev server on any port. Empty in
    # production, where the links use PUBLIC_BASE_URL and never a visitor's Host header.
    confirmation_base_url = models.CharField(max_length=200, blank=True, default="", editable=False)

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
                condition=models.Q(channel="") | models.Q(channel__in=Channel.values), name="signup_channel_valid"
            ),
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


class HoldReason(models.TextChoices):
    """Why a signup form was held for the visitor's confirmation instead of stored at once."""

    FAST = "fast", "Sent within seconds of the page loading, without the page's script"
    HONEYPOT = "honeypot", "The hidden field people never see was filled in"
    TOKEN = "token", "Sent without a valid form (missing, altered, or opened over a day before)"


class HeldSignup(models.Model):
    """A signup form the platform doubted (it may be a bot): the visitor was shown a confirm
    button instead of a thank-you, and the signup is stored only when they press it.

    No address is kept here (the submission travels in the confirm page's signed token): the row
    counts what was held and whether it was confirmed, so the founder sees how many submissions
    were dropped (`projects.selectors.signups.held_signup_counts`), and its id makes the confirm
    token single-use (`passed_at` is set once)."""

    landing_page = models.ForeignKey(LandingPage, on_delete=models.CASCADE, related_name="held_signups", db_index=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="held_signups", db_index=False)
    reason = models.CharField(max_length=16, choices=HoldReason.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    passed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        # The project's counts (the signups API) and the page's cascade read by project or page.
        indexes = [
            models.Index(fields=["project", "created_at"], name="held_signup_project_idx"),
            models.Index(fields=["landing_page"], name="held_signup_page_idx"),
        ]

    def __str__(self) -> str:
        return f"held {self.reason} on page {self.landing_page_id}"

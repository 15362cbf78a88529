from typing import cast

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.hashers import acheck_password, check_password
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.crypto import salted_hmac


def normalize_email(email: str) -> str:
    """The one spelling of an address we store and look up: trimmed and lower-case.

    Case-insensitive uniqueness then follows from the plain unique index, and the check
    constraint below keeps any other write path from storing a second spelling.
    """
    return (email or "").strip().lower()


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_by_natural_key(self, username: str | None) -> "User":
        return self.get(email=normalize_email(username or ""))

    def create_user(self, email: str, password: str | None = None, **extra: object) -> "User":
        user = self.model(email=normalize_email(email), **extra)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> "User":
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A founder, an API client or a staff member. The email address is the login."""

    email = models.EmailField(max_length=254, unique=True)
    name = models.CharField(max_length=150, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    # Goes up whenever every session and token of the account must end: a new password, a
    # deactivation, a logout. Tokens carry the version they were issued under, sessions hash it
    # (see `security.tokens` and `get_session_auth_hash`).
    token_version = models.PositiveIntegerField(default=0, editable=False)
    # False only between a sign-up in the browser and the click on the emailed link: the
    # workspace's sign-in waits for it. Accounts made by the API, the admin or a command are
    # taken as confirmed (their address was given by the operator or is used only for tokens).
    email_confirmed = models.BooleanField(default=True)
    # The daily email of new signups; a founder can turn it off in their account.
    signup_digest = models.BooleanField(default=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        ordering = ["email"]
        constraints = [
            models.CheckConstraint(condition=models.Q(email=Lower("email")), name="security_user_email_lowercase"),
        ]

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        self.email = normalize_email(self.email)

    def end_sessions(self) -> None:
        """Make every session and token issued so far invalid, once this instance is saved
        (with `token_version` in `update_fields`, if any)."""
        self.token_version += 1

    def set_password(self, raw_password: str | None) -> None:
        super().set_password(raw_password)
        # Every path that sets a password (services, the admin, `changepassword`, Django's
        # password views) comes through here; a new account has nothing to end yet.
        if not self._state.adding:
            self.end_sessions()

    # Django's checks upgrade an outdated hash through `set_password`; a hash upgrade (a new
    # hasher or work factor) is not a password change and keeps the sessions and tokens.
    def _set_upgraded_hash(self, raw_password: str) -> None:
        AbstractBaseUser.set_password(self, raw_password)
        self._password = None

    def check_password(self, raw_password: str) -> bool:
        def rehash(raw_password: str) -> None:
            self._set_upgraded_hash(raw_password)
            self.save(update_fields=["password"])

        return check_password(raw_password, self.password, rehash)

    async def acheck_password(self, raw_password: str) -> bool:
        async def rehash(raw_password: str) -> None:
            self._set_upgraded_hash(raw_password)
            await self.asave(update_fields=["password"])

        return await acheck_password(raw_password, self.password, rehash)

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        """Django's hash of the password (behind `get_session_auth_hash` and its fallbacks for
        rotated secret keys), of the token version too once it has moved, so a deactivation or
        a logout everywhere ends the browser sessions as well. At version 0 it is Django's own,
        so existing sessions survive the upgrade."""
        if not self.token_version:
            # Private in Django, so not in its stubs.
            return cast(str, super()._get_session_auth_hash(secret=secret))  # type: ignore[misc]
        return salted_hmac(
            "security.User.get_session_auth_hash",
            f"{self.password}:{self.token_version}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

    def get_full_name(self) -> str:
        return self.name or self.email

    def get_short_name(self) -> str:
        return self.name or self.email


class Severity(models.TextChoices):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class EventKind(models.TextChoices):
    LOGIN_FAILED = "login_failed"
    LOGIN_SUCCEEDED = "login_succeeded"
    LOCKOUT = "lockout"
    RATE_LIMITED = "rate_limited"
    IP_BLOCKED = "ip_blocked"
    IP_UNBLOCKED = "ip_unblocked"
    BLOCKED_REQUEST = "blocked_request"
    PERMISSION_DENIED = "permission_denied"
    INVALID_TOKEN = "invalid_token"  # noqa: S105 - an event kind, not a secret
    SUSPICIOUS_INPUT = "suspicious_input"
    SCANNER_PATH = "scanner_path"


class SecurityEvent(models.Model):
    """One security-relevant thing that happened: the audit trail the dashboard and the
    security-stats endpoint read. No raw secrets: the path, never the query string or body."""

    kind = models.CharField(max_length=30, choices=EventKind.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.LOW)
    created_at = models.DateTimeField(default=timezone.now)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user = models.ForeignKey("security.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    identifier = models.CharField(max_length=254, blank=True, help_text="The account tried, when not a user.")
    request_id = models.CharField(max_length=128, blank=True)
    method = models.CharField(max_length=10, blank=True)
    path = models.CharField(max_length=500, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["-created_at"], name="secevent_created_idx"),
            models.Index(fields=["kind", "-created_at"], name="secevent_kind_created_idx"),
            models.Index(fields=["ip", "-created_at"], name="secevent_ip_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(kind__in=EventKind.values), name="secevent_kind_valid"),
            models.CheckConstraint(condition=models.Q(severity__in=Severity.values), name="secevent_severity_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} from {self.ip or '-'} at {self.created_at:%Y-%m-%d %H:%M:%S}"


class BlockRule(models.TextChoices):
    RATE_LIMIT = "rate_limit", "Repeated rate-limit violations"
    LOCKOUT = "lockout", "Repeated login lockouts"
    SCANNER = "scanner", "Probing scanner paths"
    ERROR_BURST = "error_burst", "Burst of 4xx responses"
    MANUAL = "manual", "Blocked by staff"


class BlockedIP(models.Model):
    """A block on a client or a network, and the audit trail of it: why, on what evidence, by
    whom, until when, and who lifted it. The active set is mirrored in the cache for the request
    path."""

    # `security.ip.block_target`'s spelling: `203.0.113.5`, an IPv6 client's `2001:db8:1:2::/64`,
    # or a network blocked by staff (`203.0.113.0/24`).
    ip = models.CharField(max_length=49, help_text="The address or network (CIDR) blocked.")
    rule = models.CharField(max_length=20, choices=BlockRule.choices)
    reason = models.CharField(max_length=300)
    evidence = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    created_by = models.ForeignKey("security.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by_system = models.CharField(max_length=100, blank=True, help_text="The automatic rule that blocked.")
    unblocked_at = models.DateTimeField(null=True, blank=True)
    unblocked_by = models.ForeignKey(
        "security.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["ip", "-expires_at"], name="blockedip_ip_expires_idx"),
            # The rate-limit KPI: the blocks of one rule in a window.
            models.Index(fields=["rule", "-created_at"], name="blockedip_rule_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("created_at")), name="blockedip_expires_after"
            ),
            models.CheckConstraint(condition=models.Q(rule__in=BlockRule.values), name="blockedip_rule_valid"),
            # At most one active (not lifted) block per address.
            models.UniqueConstraint(
                fields=["ip"], condition=models.Q(unblocked_at__isnull=True), name="blockedip_one_open"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ip} ({self.rule}) until {self.expires_at:%Y-%m-%d %H:%M}"

    @property
    def is_active(self) -> bool:
        return self.unblocked_at is None and self.expires_at > timezone.now()

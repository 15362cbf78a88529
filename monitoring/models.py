"""What monitoring keeps in the database: grouped errors, slow queries and slow operations,
hourly request metrics rolled up from Redis, and the alerts sent. Every table is bounded:
groups are upserted by fingerprint, and `prune_monitoring` deletes what is older than asked."""

from django.db import models
from django.db.models import Q


class ErrorGroup(models.Model):
    """Unhandled (or deliberately logged) exceptions of one kind at one place."""

    fingerprint = models.CharField(max_length=64, unique=True)
    exc_type = models.CharField(max_length=200)
    message = models.TextField(blank=True)
    location = models.CharField(max_length=300, blank=True)
    count = models.PositiveBigIntegerField(default=1)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    last_request_id = models.CharField(max_length=128, blank=True)
    route = models.CharField(max_length=300, blank=True)
    method = models.CharField(max_length=10, blank=True)
    user_id = models.BigIntegerField(null=True, blank=True)
    project_id = models.BigIntegerField(null=True, blank=True)
    handled = models.BooleanField(default=False, help_text="Logged by the code that caught it, not unhandled.")
    sample_traceback = models.TextField(blank=True)
    # Set by staff from the admin; a new occurrence clears it, so "resolved" lasts until it happens again.
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_seen"]
        indexes = [models.Index(fields=["-last_seen"], name="errorgroup_last_seen_idx")]

    def __str__(self) -> str:
        return f"{self.exc_type} at {self.location}"


class SlowQueryGroup(models.Model):
    """Queries slower than `SLOW_QUERY_THRESHOLD_MS`, grouped by normalised SQL."""

    fingerprint = models.CharField(max_length=64, unique=True)
    sql = models.TextField()
    vendor = models.CharField(max_length=20)
    count = models.PositiveBigIntegerField(default=1)
    total_ms = models.FloatField(default=0)
    max_ms = models.FloatField(default=0)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    call_site = models.CharField(max_length=300, blank=True)
    last_request_id = models.CharField(max_length=128, blank=True)
    plan = models.TextField(blank=True)
    plan_captured_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_seen"]
        indexes = [models.Index(fields=["-last_seen"], name="slowquery_last_seen_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(max_ms__gte=0) & Q(total_ms__gte=0), name="slowquery_times_positive"),
        ]

    def __str__(self) -> str:
        return self.sql[:80]

    @property
    def mean_ms(self) -> float:
        return self.total_ms / self.count if self.count else 0.0


class SlowOperationGroup(models.Model):
    """Requests, service calls and commands slower than `SLOW_OPERATION_THRESHOLD_MS`."""

    class Kind(models.TextChoices):
        REQUEST = "request"
        SERVICE = "service"
        COMMAND = "command"
        EXTERNAL = "external"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    name = models.CharField(max_length=300)
    count = models.PositiveBigIntegerField(default=1)
    total_ms = models.FloatField(default=0)
    max_ms = models.FloatField(default=0)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    last_request_id = models.CharField(max_length=128, blank=True)

    class Meta:
        ordering = ["-last_seen"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "name"], name="slowop_kind_name_unique"),
            models.CheckConstraint(
                condition=Q(kind__in=["request", "service", "command", "external"]), name="slowop_kind_valid"
            ),
        ]
        indexes = [models.Index(fields=["-last_seen"], name="slowop_last_seen_idx")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"

    @property
    def mean_ms(self) -> float:
        return self.total_ms / self.count if self.count else 0.0


class RequestMetricHour(models.Model):
    """One hour of one route's traffic, rolled up from the per-minute buckets in Redis (or the
    process's memory): what outlives the buckets' expiry."""

    hour = models.DateTimeField()
    route = models.CharField(max_length=300)
    method = models.CharField(max_length=10)
    status_class = models.CharField(max_length=3)
    count = models.PositiveBigIntegerField(default=0)
    errors = models.PositiveBigIntegerField(default=0)
    total_ms = models.FloatField(default=0)
    # Counts per latency bucket, in the order of `monitoring.histogram.BOUNDS_MS`.
    histogram = models.JSONField(default=list)

    class Meta:
        ordering = ["-hour", "route"]
        constraints = [
            models.UniqueConstraint(fields=["hour", "route", "method", "status_class"], name="metrichour_unique"),
            models.CheckConstraint(condition=Q(errors__lte=models.F("count")), name="metrichour_errors_le_count"),
        ]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}:00 {self.method} {self.route} {self.status_class}"


class AlertDelivery(models.Model):
    """An alert the platform raised, and whether its webhook took it. Written pending when the
    alert is raised; each try of the delivery task counts an attempt (the last one's status
    and error are kept); `finished_at` is set when it was delivered or given up on."""

    class Channel(models.TextChoices):
        ERROR = "error"
        PERFORMANCE = "performance"
        SECURITY = "security"

    channel = models.CharField(max_length=20, choices=Channel.choices)
    rule = models.CharField(max_length=100)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered = models.BooleanField(default=False)
    attempts = models.PositiveSmallIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["-created_at"], name="alert_created_idx")]

    def __str__(self) -> str:
        return f"{self.channel}:{self.rule} at {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def status(self) -> str:
        """pending (attempts left), delivered, or failed (every attempt refused)."""
        if self.delivered:
            return "delivered"
        return "failed" if self.finished_at else "pending"


class CounterHour(models.Model):
    """One hour of one KPI counter (`monitoring.kpis.count`), copied from the per-minute buckets
    (Redis, or the process's memory) by the hourly roll-up: the KPIs' history, which outlives the
    buckets' expiry and a restart, and what `monitoring_report` reads from another process."""

    hour = models.DateTimeField()
    name = models.CharField(max_length=120)
    value = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["-hour", "name"]
        constraints = [models.UniqueConstraint(fields=["name", "hour"], name="counterhour_name_hour_unique")]
        # Every read (the panel, the alert pass, /metrics) and the prune take a range of hours.
        indexes = [models.Index(fields=["hour"], name="counterhour_hour_idx")]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}:00 {self.name}={self.value}"


class HealthMinute(models.Model):
    """A minute in which the health endpoint answered, with its worst answer that minute: uptime is
    the share of minutes that answered ok or degraded. A minute nobody could ask, or that answered
    unhealthy, counts against it; the rows survive restarts."""

    minute = models.DateTimeField(unique=True)
    status = models.CharField(max_length=10)

    class Meta:
        ordering = ["-minute"]

    def __str__(self) -> str:
        return f"{self.minute:%Y-%m-%d %H:%M} {self.status}"

"""Events: the tracked visits of the public pages, their daily rollups, the people in each
experiment, and the worker's state."""

from django.db import models
from django.db.models.functions import Coalesce

from projects.models.experiments import VARIANT_KEY_MAX_LENGTH, Experiment
from projects.models.pages import LandingPage


class EventKind(models.TextChoices):
    VIEW = "view", "Page view"
    CTA_CLICK = "cta_click", "Call-to-action click"
    SIGNUP = "signup", "Signup"
    PREORDER = "preorder", "Pre-order (fake door)"
    # Sent by the page's script once loaded: the visitor runs JavaScript (the no-JS rule, see
    # `projects.events.visit`). Not an interaction: never counted as an event of a visit.
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


class Device(models.TextChoices):
    """The device class of a visit, from its user agent (`projects.analysis.devices`)."""

    DESKTOP = "desktop", "Desktop"
    PHONE = "phone", "Phone"
    TABLET = "tablet", "Tablet"
    OTHER = "other", "Other or unknown"


class Dimension(models.TextChoices):
    """What a `BreakdownRollup` row breaks a page's traffic down by."""

    REFERRER = "referrer", "Referring site"
    UTM_SOURCE = "utm_source", "UTM source"
    UTM_MEDIUM = "utm_medium", "UTM medium"
    UTM_CAMPAIGN = "utm_campaign", "UTM campaign"
    UTM_CONTENT = "utm_content", "UTM content"
    UTM_TERM = "utm_term", "UTM term"
    DEVICE = "device", "Device class"


class Event(models.Model):
    """One tracked event, moved here from the Redis buffer by the worker (or written directly
    when Redis is away). Raw rows are kept for EVENT_RETENTION_DAYS; `DailyRollup` and
    `ExperimentExposure` keep the figures for good. Written once: whether a row is rolled up is
    its shard's high-water mark (`EventWorkerState.rolled_up_to`), never a flag on the row."""

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
    # The ad platform of the click id the page view's address carried (`analysis.channels.CLICK_IDS`):
    # with the tags, what ties a visitor to one of the project's campaigns.
    click_platform = models.CharField(max_length=16, blank=True)
    referrer_host = models.CharField(max_length=255, blank=True)
    # The device class of the visit's user agent (blank for events tracked before it was kept).
    device = models.CharField(max_length=8, choices=Device.choices, blank=True)
    occurred_at = models.DateTimeField()
    day = models.DateField()
    # The page's shard when the row was stored (`projects.events.shards`) and the row's place in
    # that shard's sequence, handed out in commit order: the rollup of a shard takes its rows
    # above the shard's mark in `seq` order.
    shard = models.PositiveSmallIntegerField()
    seq = models.BigIntegerField()

    class Meta:
        ordering = ["id"]
        indexes = [
            # The rollup's look-up of a visitor's earlier events that day (unique visitors, bounces).
            models.Index(fields=["page", "visitor_hash", "day"], name="event_page_visitor_day_idx"),
            # Each shard's queue: its rows above the mark, in sequence order. Not unique (a shard's
            # sequence hands each number out once), so it needs no partition key.
            models.Index(fields=["shard", "seq"], name="event_shard_seq_idx"),
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


class RollupFigures(models.Model):
    """The figures of a rollup row: events and the people behind them."""

    views = models.PositiveIntegerField(default=0)
    visitors = models.PositiveIntegerField(default=0)
    cta_clicks = models.PositiveIntegerField(default=0)
    signups = models.PositiveIntegerField(default=0)
    preorders = models.PositiveIntegerField(default=0)
    # Visitors whose only event of the day was one view.
    bounces = models.PositiveIntegerField(default=0)
    # People, not events: visitors who clicked the call to action, signed up, pre-ordered (the
    # rates are shares of people; a visitor who clicks twice is one clicker).
    clicked_visitors = models.PositiveIntegerField(default=0)
    signed_up_visitors = models.PositiveIntegerField(default=0)
    preordered_visitors = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True


class DailyRollup(RollupFigures):
    """A day of one page's traffic for one variant, channel and kind of traffic."""

    page = models.ForeignKey(LandingPage, on_delete=models.CASCADE, related_name="rollups")
    day = models.DateField()
    experiment = models.ForeignKey(Experiment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    variant = models.CharField(max_length=VARIANT_KEY_MAX_LENGTH, blank=True)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    traffic = models.CharField(max_length=8, choices=Traffic.choices)

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


class BreakdownRollup(RollupFigures):
    """A day of one page's traffic broken down by one dimension (a referring site, a UTM field,
    the device class) and kind of traffic: what the analytics page's sources, referrers, UTM and
    device tables read, so that no page view scans raw events. The same figures as
    `DailyRollup`; a visitor belongs to the value of their first event of the day (in rollup order,
    whatever its kind), however the worker split the day into batches."""

    page = models.ForeignKey(LandingPage, on_delete=models.CASCADE, related_name="breakdowns")
    day = models.DateField()
    dimension = models.CharField(max_length=16, choices=Dimension.choices)
    # Blank: the visit had none (no referrer, no tag).
    value = models.CharField(max_length=255, blank=True)
    traffic = models.CharField(max_length=8, choices=Traffic.choices)

    class Meta:
        ordering = ["day", "id"]
        indexes = [models.Index(fields=["page", "dimension", "day"], name="breakdown_page_dim_day_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["page", "day", "dimension", "value", "traffic"], name="breakdown_unique_row"
            ),
            models.CheckConstraint(
                condition=models.Q(dimension__in=Dimension.values), name="breakdown_dimension_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(bounces__lte=models.F("visitors")), name="breakdown_bounces_le_visitors"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.page_id} {self.day} {self.dimension}={self.value or '-'} {self.traffic}"


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


class EventSequence(models.Model):
    """A shard's counter of event sequence numbers. An insert takes its numbers here
    (`UPDATE ... RETURNING`) inside its own transaction, so the row's lock makes the next insert
    of the shard wait until this one commits: a higher number is never committed earlier. Apart
    from `EventWorkerState`, so that inserts never wait for a rollup, nor a rollup for inserts."""

    shard = models.PositiveSmallIntegerField(primary_key=True)
    next_seq = models.BigIntegerField(default=1)

    def __str__(self) -> str:
        return f"shard {self.shard}: next {self.next_seq}"


class EventWorkerState(models.Model):
    """A shard's rollup: the row one worker locks while it rolls the shard up (others skip the
    shard, so no visitor is counted twice by two workers at once), the high-water mark (every
    row of the shard with `seq` at or below it is in the rollups) and the heartbeat."""

    shard = models.PositiveSmallIntegerField(unique=True)
    rolled_up_to = models.BigIntegerField(default=0)
    last_rollup_at = models.DateTimeField(null=True, blank=True)
    events_rolled_up = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"shard {self.shard}: rolled up to {self.rolled_up_to}, last at {self.last_rollup_at}"

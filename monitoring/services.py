"""Writes of the monitoring domain: hourly rollups of the request buckets and the KPI counters,
and pruning."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from monitoring import kpi_counters, metrics
from monitoring.models import (
    AlertDelivery,
    CounterHour,
    ErrorGroup,
    HealthMinute,
    RequestMetricHour,
    SlowOperationGroup,
    SlowQueryGroup,
)

# The KPIs' own history (counter hours, health minutes) is kept at least this long, whatever the
# prune is asked: uptime reads 30 days.
KPI_HISTORY = timedelta(days=31)


def rollup_hours(*, hours: int = 48, now: datetime | None = None) -> int:
    """Copy the last `hours` hourly buckets (the current one included) into `RequestMetricHour`,
    and the KPI counters' buckets into `CounterHour` (`kpi_counters.persist`).

    Idempotent: a bucket holds the whole hour so far, so its row is overwritten, never added
    to; running it twice, or from two hosts at once, gives the same rows (the KPI counters of an
    embedded process add only what that process has not copied yet). Returns the request rows
    written.
    """
    now = now or timezone.now()
    current_hour = int(now.timestamp() // 3600)
    rows: list[RequestMetricHour] = []
    for hour_id, fields in metrics.read_hours(range(current_hour - hours + 1, current_hour + 1)):
        hour = datetime.fromtimestamp(hour_id * 3600, tz=UTC)
        for labels, stats in metrics.group(fields, "r").items():
            if len(labels) != 3 or not stats.get("n"):
                continue
            method, route, status_class = labels
            rows.append(
                RequestMetricHour(
                    hour=hour,
                    route=route[:300],
                    method=method[:10],
                    status_class=status_class[:3],
                    count=stats.get("n", 0),
                    errors=min(stats.get("err", 0), stats.get("n", 0)),
                    total_ms=stats.get("us", 0) / 1000,
                    histogram=metrics.histogram_of(stats),
                )
            )
    with transaction.atomic():
        RequestMetricHour.objects.bulk_create(
            rows,
            batch_size=500,
            update_conflicts=True,
            unique_fields=["hour", "route", "method", "status_class"],
            update_fields=["count", "errors", "total_ms", "histogram"],
        )
    kpi_counters.persist(hours=hours, now=now.timestamp())
    return len(rows)


@dataclass(frozen=True)
class PruneResult:
    metric_hours: int
    error_groups: int
    slow_queries: int
    slow_operations: int
    alerts: int
    counter_hours: int = 0
    health_minutes: int = 0

    @property
    def total(self) -> int:
        return (
            self.metric_hours + self.error_groups + self.slow_queries + self.slow_operations + self.alerts
            + self.counter_hours + self.health_minutes
        )  # fmt: skip


def prune(*, older_than: timedelta, dry_run: bool = False, now: datetime | None = None) -> PruneResult:
    """Delete monitoring rows not seen (or created) within `older_than`. Groups still being
    seen are kept whatever their age: their `last_seen` is recent."""
    cutoff = (now or timezone.now()) - older_than
    kpi_cutoff = (now or timezone.now()) - max(older_than, KPI_HISTORY)
    querysets = {
        "metric_hours": RequestMetricHour.objects.filter(hour__lt=cutoff),
        "error_groups": ErrorGroup.objects.filter(last_seen__lt=cutoff),
        "slow_queries": SlowQueryGroup.objects.filter(last_seen__lt=cutoff),
        "slow_operations": SlowOperationGroup.objects.filter(last_seen__lt=cutoff),
        "alerts": AlertDelivery.objects.filter(created_at__lt=cutoff),
        "counter_hours": CounterHour.objects.filter(hour__lt=kpi_cutoff),
        "health_minutes": HealthMinute.objects.filter(minute__lt=kpi_cutoff),
    }
    if dry_run:
        return PruneResult(**{name: qs.count() for name, qs in querysets.items()})
    with transaction.atomic():
        return PruneResult(**{name: qs.delete()[0] for name, qs in querysets.items()})


def error_groups_resolve(*, ids: Iterable[int]) -> int:
    """Mark the error groups resolved, now; groups already resolved keep their first time.
    A group is resolved until it happens again (`errors.record_exception` clears the mark).
    Returns the number of groups newly marked."""
    with transaction.atomic():
        return ErrorGroup.objects.filter(pk__in=list(ids), resolved_at__isnull=True).update(resolved_at=timezone.now())

"""Every KPI of the production guide, in one place: what it measures, its bar, and the guide's line
it comes from. Pure data: how each figure is read lives with the data it is read from
(`monitoring.kpis` binds a reader to each id), so a bar moves here and nowhere else.

A KPI without a bar (`op` None) is tracked, not judged: the guide asks to "track and trend" it.
"""

from dataclasses import dataclass
from typing import Literal

Group = Literal["performance", "security", "availability", "database"]
GROUPS: tuple[tuple[Group, str], ...] = (
    ("performance", "Performance"),
    ("security", "Security"),
    ("availability", "Availability"),
    ("database", "Database"),
)


@dataclass(frozen=True)
class KpiSpec:
    id: str
    group: Group
    name: str
    # The bar as the guide words it, shown beside the figure.
    target: str
    # value <op> threshold passes; None: tracked without a bar.
    op: Literal["<", ">", ">="] | None
    threshold: float | None
    # "ratio" (0..1, shown as a percentage), "ms", "count" or "per_request".
    unit: str
    # The guide's own line (docs: PRODUCTION_GUIDE.md, "Metrics & KPIs" and "Database Optimizations").
    source: str

    def passes(self, value: float | None) -> bool | None:
        """True or False against the bar; None when there is no figure or no bar."""
        if value is None or self.op is None or self.threshold is None:
            return None
        if self.op == "<":
            return value < self.threshold
        if self.op == ">":
            return value > self.threshold
        return value >= self.threshold


CATALOG: tuple[KpiSpec, ...] = (
    # Performance KPIs
    KpiSpec(
        "response_p95",
        "performance",
        "Response time p95",
        "< 200 ms",
        "<",
        200.0,
        "ms",
        "Performance KPIs: Response Time: <200ms for 95% of requests",
    ),
    KpiSpec(
        "query_p95",
        "performance",
        "Database query time p95",
        "< 100 ms",
        "<",
        100.0,
        "ms",
        "Performance KPIs: Database Query Time: <100ms for 95% of queries",
    ),
    KpiSpec(
        "error_rate",
        "performance",
        "Error rate",
        "< 1%",
        "<",
        0.01,
        "ratio",
        "Performance KPIs: Error Rate: <1% of total requests",
    ),
    KpiSpec(
        "cache_hit_rate",
        "performance",
        "Cache hit rate (each busy key family)",
        "> 80%",
        ">",
        0.80,
        "ratio",
        "Performance KPIs: Cache Hit Rate: >80% for frequently accessed data",
    ),
    # Security KPIs
    KpiSpec(
        "blocked_attacks",
        "security",
        "Blocked attacks",
        "tracked by kind",
        None,
        None,
        "count",
        "Security KPIs: Blocked Attacks: Track and trend security events",
    ),
    KpiSpec(
        "rate_limit_effectiveness",
        "security",
        "Rate-limit effectiveness",
        "tracked",
        None,
        None,
        "ratio",
        "Security KPIs: Rate Limit Effectiveness: Monitor blocked requests",
    ),
    KpiSpec(
        "auth_success",
        "security",
        "Authentication success for valid users",
        "> 99%",
        ">",
        0.99,
        "ratio",
        "Security KPIs: Authentication Success Rate: >99% for valid users",
    ),
    KpiSpec(
        "header_coverage",
        "security",
        "Security header coverage",
        "100% of responses",
        ">=",
        1.0,
        "ratio",
        "Security KPIs: Security Header Coverage: 100% of responses",
    ),
    # Availability KPIs
    KpiSpec(
        "uptime",
        "availability",
        "Uptime",
        "> 99.9%",
        ">",
        0.999,
        "ratio",
        "Availability KPIs: Uptime: >99.9% system availability",
    ),
    KpiSpec(
        "health_success",
        "availability",
        "Health-check success",
        "> 99%",
        ">",
        0.99,
        "ratio",
        "Availability KPIs: Health Check Success: >99% health check passes",
    ),
    KpiSpec(
        "external_success",
        "availability",
        "External API success (each service)",
        "> 95%",
        ">",
        0.95,
        "ratio",
        "Availability KPIs: External API Success: >95% success rate for third-party APIs",
    ),
    # Database
    KpiSpec(
        "index_coverage",
        "database",
        "Index coverage",
        "95% of queries",
        ">=",
        0.95,
        "ratio",
        "Database Optimizations: Index Coverage: 95% of queries now use optimized indexes",
    ),
    KpiSpec(
        "connection_efficiency",
        "database",
        "Connections opened per request",
        "tracked",
        None,
        None,
        "per_request",
        "Database Optimizations: Connection Efficiency: Reduced connection overhead by 60%",
    ),
)

BY_ID = {spec.id: spec for spec in CATALOG}

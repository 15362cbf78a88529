"""The staff dashboard's "large" data set, shared by its query-count test
(tests/monitoring/test_dashboard.py) and its render-time benchmark (bench/dashboard.py), so both
hold the page to the same scale.

Needs a configured Django (a test database, or `manage.py shell` with the bench environment).
"""

import time
from datetime import datetime, timedelta

from django.utils import timezone

from monitoring import metrics
from monitoring.models import ErrorGroup, SlowQueryGroup
from security.models import BlockedIP, BlockRule, EventKind, SecurityEvent, Severity

# A few KB of traceback per group: the errors panel must not load it (it defers the column).
_SLOW_SQL = (
    'SELECT * FROM "security_securityevent" WHERE "ip" = %s ORDER BY "created_at" DESC LIMIT %s',
    'SELECT * FROM "projects_project" WHERE "owner_id" = %s ORDER BY "id"',
    'SELECT COUNT(*) FROM "projects_signup" WHERE "landing_page_id" IN (...)',
)
_TRACEBACK = "Traceback (most recent call last):\n" + '  File "app/module.py", line 42, in handler\n' * 60


def seed_large(
    *,
    routes: int = 50,
    days: int = 30,
    events: int = 100_000,
    error_groups: int = 300,
    slow_queries: int = 300,
    blocked_ips: int = 300,
    experiments: int = 20,
    people_per_experiment: int = 2_000,
) -> None:
    """30 days of request buckets for 50 routes (minutes for the last two hours, hours before,
    as the counters keep them) and 100k security events spread over the retention period; a
    few hundred open error groups, slow-query groups and active blocks, more than any panel
    lists; and running experiments (more than the panel lists) with their people and a month of
    daily rollups, one of them with a skewed split."""
    now = time.time()
    for minute in range(120):
        at = now - minute * 60
        metrics.record({metrics.field("r", "GET", f"/api/route-{r}/", "2xx", "n"): 5 for r in range(routes)}, at=at)
    for hour in range(2, days * 24):
        at = now - hour * 3600
        counts = {}
        for r in range(routes):
            counts[metrics.field("r", "GET", f"/api/route-{r}/", "2xx", "n")] = 300
            counts[metrics.field("r", "GET", f"/api/route-{r}/", "2xx", "us")] = 300 * 20_000
            counts[metrics.field("r", "GET", f"/api/route-{r}/", "2xx", "b12")] = 300
        metrics.record(counts, at=at)
    metrics.flush()
    start = timezone.now()
    kinds = [EventKind.LOGIN_FAILED, EventKind.RATE_LIMITED, EventKind.SCANNER_PATH, EventKind.LOCKOUT]
    batch = [
        SecurityEvent(
            kind=kinds[i % 4],
            severity=Severity.LOW,
            ip=f"10.{i % 200}.{(i // 200) % 250}.1",
            created_at=start - timedelta(seconds=i * 77),
            path=f"/p{i % 40}",
        )  # fmt: skip
        for i in range(events)
    ]
    SecurityEvent.objects.bulk_create(batch, batch_size=5000)
    _seed_groups_and_blocks(start, error_groups=error_groups, slow_queries=slow_queries, blocked_ips=blocked_ips)
    _seed_experiments(start, experiments=experiments, people=people_per_experiment, days=days)


def _seed_experiments(start: datetime, *, experiments: int, people: int, days: int) -> None:
    from projects.models.events import Channel, DailyRollup, ExperimentExposure, Traffic
    from projects.models.experiments import Experiment, ExperimentStatus, Variant
    from projects.models.pages import LandingPage, PageStatus
    from projects.models.projects import Project
    from security.models import User

    owner = User.objects.create_user(email="experiments@bench.mvpvalidator.dev", password=None)
    for n in range(experiments):
        project = Project.objects.create(
            owner=owner, name=f"Idea {n}", idea_description="A business idea at scale.", price_point=29,
            business_model="saas", status="live",
        )  # fmt: skip
        page = LandingPage.objects.create(
            project=project, slug=f"scale-{n}", status=PageStatus.PUBLISHED, headline=f"Idea {n}",
            value_proposition="Value.", cta_text="Join", published_at=start,
        )  # fmt: skip
        experiment = Experiment.objects.create(
            page=page, name=f"Headline test {n}", seed=f"seed{n}", status=ExperimentStatus.RUNNING,
            started_at=start - timedelta(days=days),
        )  # fmt: skip
        # The first is broken (70/30 on a 50/50 plan); the second half bots (10% for the others).
        skew = 0.7 if n == 0 else 0.5
        in_control = sum(1 for i in range(people) if i < people * skew)
        Variant.objects.bulk_create(
            [
                Variant(experiment=experiment, key="control", is_control=True, weight=1, position=0,
                        people=in_control, converted=sum(1 for i in range(in_control) if i % 10 == 0)),
                Variant(experiment=experiment, key="b", weight=1, headline="Another headline", position=1,
                        people=people - in_control,
                        converted=sum(1 for i in range(in_control, people) if i % 10 == 0)),
            ]
        )  # fmt: skip
        ExperimentExposure.objects.bulk_create(
            [
                ExperimentExposure(
                    experiment=experiment,
                    variant="control" if i < people * skew else "b",
                    visitor_hash=f"{n:04d}{i:060d}",
                    first_seen=start,
                    confirmed=True,
                    signed_up=i % 10 == 0,
                )  # fmt: skip
                for i in range(people)
            ],
            batch_size=5000,
        )
        DailyRollup.objects.bulk_create(
            [
                DailyRollup(
                    page=page,
                    day=(start - timedelta(days=d)).date(),
                    experiment=experiment,
                    variant=variant,
                    channel=Channel.PAID,
                    traffic=traffic,
                    views=100 if traffic == Traffic.HUMAN or n == 1 else 10,
                    visitors=80,
                    signups=8,
                    bounces=40,
                )  # fmt: skip
                for d in range(days)
                for variant in ("control", "b")
                for traffic in (Traffic.HUMAN, Traffic.BOT)
            ],
            batch_size=5000,
        )


def _seed_groups_and_blocks(start: datetime, *, error_groups: int, slow_queries: int, blocked_ips: int) -> None:
    spread = timedelta(days=30)
    ErrorGroup.objects.bulk_create(
        [
            ErrorGroup(
                fingerprint=f"bench-error-{i:06d}".ljust(64, "0"),
                exc_type=f"app.errors.Error{i % 40}",
                message=f"error number {i} in a handler",
                location=f"app/module_{i % 40}.py:{i % 500}",
                route=f"/api/route-{i % 50}/",
                method="GET",
                count=1 + i * 7,
                first_seen=start - spread,
                last_seen=start - spread * i / max(error_groups, 1),
                last_request_id=f"req-{i:012d}",
                sample_traceback=_TRACEBACK,
            )
            for i in range(error_groups)
        ],
        batch_size=1000,
    )
    SlowQueryGroup.objects.bulk_create(
        [
            SlowQueryGroup(
                fingerprint=f"bench-query-{i:06d}".ljust(64, "0"),
                sql=_SLOW_SQL[i % len(_SLOW_SQL)],
                vendor="postgresql",
                count=1 + i,
                total_ms=(1 + i) * 150.0,
                max_ms=150.0 + i,
                first_seen=start - spread,
                last_seen=start - spread * i / max(slow_queries, 1),
                call_site=f"app/selectors.py:{i % 300} in select_{i % 30}",
                plan=f"Seq Scan  (cost=0.00..{i}.00 rows={i} width=8)",
            )
            for i in range(slow_queries)
        ],
        batch_size=1000,
    )
    BlockedIP.objects.bulk_create(
        [
            BlockedIP(
                ip=f"172.16.{i // 250}.{i % 250 + 1}",
                rule=BlockRule.SCANNER,
                reason="probing scanner paths (/.env, /wp-login.php)",
                evidence={"paths": ["/.env", "/wp-login.php"], "hits": 2},
                created_at=start - timedelta(minutes=i),
                expires_at=start + timedelta(hours=1),
                created_by_system="scanner",
            )
            for i in range(blocked_ips)
        ],
        batch_size=1000,
    )

"""Staff dashboard at scale: the render time of GET /performance-monitor/?window=24h with a large
data set, as a ratio to the same page with empty data, on PostgreSQL + Redis in the same run.

    make bench-dashboard          # or: .venv/bin/python -m bench.dashboard [--rounds 7 --renders 15]

Target: large/empty render-time ratio <= 1.5. Every render on either side must also cost the same
number of database queries (the panels read rollups, never raw history). Exit status 1 when
either is missed.

The large data set is `bench.dashboard_data.seed_large`, the one the dashboard's query-count
test uses: 30 days of request counters for 50 routes, 100k security events, and a few hundred
open error groups, slow-query groups and active blocks.

Two data sets side by side, one process each. Seeding between an "empty" and a "large"
measurement would put any drift of the machine on one side only. Instead each data set has its
own PostgreSQL database and its own Redis key prefix, and each is served by its own long-lived
child process (this module with `--serve`) with identical settings otherwise: the production
settings as every benchmark runs them (`stack_env`: DEBUG off, so cached templates and hashed
static URLs from collectstatic's manifest; `bench.settings`). A child renders
the page in-process through Django's test Client as a signed-in staff user, timing the whole
request (middleware included) and counting its queries with `CaptureQueriesContext`. The parent
asks the children in turn for a batch of renders, alternating which goes first each round, so
only one works at any moment and drift hits both alike; a round's figure is the median render
of its batch, the verdict the median of the per-round ratios. One process switching between the
two data sets would need a database router and re-pointed cache keys that production does not
have, and would share its in-process state (health report, local cache tier, block-list mirror)
between them. No HTTP server is involved: it would add the same constant to both sides and
dilute the ratio.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from typing import Any

from bench.harness import PG_ADMIN_URL, PYTHON, ROOT, Verdict, manage, recreate_database, report, stack_env

DB_NAME = "mvpvalidator_bench_dashboard"
# Its own Redis database (each data set under its own key prefix, from stack_env): this run's
# counters never mix with another benchmark's.
REDIS_URL = os.environ.get("BENCH_DASHBOARD_REDIS_URL", "redis://127.0.0.1:6379/11")
TARGET = 1.5
PATH = "/performance-monitor/?window=24h"
SIDES = ("empty", "large")
STAFF_EMAIL = "staff@bench.mvpvalidator.dev"
STAFF_PASSWORD = "dashboard-bench-staff-pass"  # noqa: S105 - a throwaway benchmark account
REPLY = "bench-dashboard-reply "  # marks the child's answers on stdout (anything else is passed on)
SEED = "from bench.dashboard_data import seed_large; seed_large()"


def side_env(side: str) -> dict[str, str]:
    return {
        **stack_env(f"{DB_NAME}_{side}"),
        "REDIS_URL": REDIS_URL,
        # The health panel reruns its checks (database, Redis, migrations, in a thread pool) once
        # its in-process report is older than this, 5 s by default. That cost does not depend on
        # the data, and which render pays it depends only on the clock: at the default it would
        # land on a few renders of either side at random. An hour keeps it in the warm-up.
        "HEALTH_CACHE_SECONDS": "3600",
    }


# --- The child: one data set, rendered in-process ---------------------------------------------


def serve() -> None:
    """Render the page `n` times for each `n` read from stdin; answer each batch on stdout with
    the render times (ms), query counts and statuses, as JSON after the `REPLY` marker."""
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from security.models import User
    from security.services import user_create

    staff = User.objects.filter(email=STAFF_EMAIL).first() or user_create(
        email=STAFF_EMAIL, password=STAFF_PASSWORD, name="Bench Staff", is_staff=True
    )
    client = Client(HTTP_HOST="localhost")  # an allowed host of the bench stack (not "testserver")
    client.force_login(staff)

    def render(n: int) -> dict[str, list[Any]]:
        batch: dict[str, list[Any]] = {"ms": [], "queries": [], "status": []}
        for _ in range(n):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(PATH)
                elapsed = time.perf_counter() - started
            batch["ms"].append(elapsed * 1000)
            batch["queries"].append(len(queries.captured_queries))
            batch["status"].append(response.status_code)
        return batch

    for line in sys.stdin:
        sys.stdout.write(REPLY + json.dumps(render(int(line))) + "\n")
        sys.stdout.flush()


# --- The parent -------------------------------------------------------------------------------


class Child:
    def __init__(self, side: str) -> None:
        self.side = side
        self.proc = subprocess.Popen(
            [PYTHON, "-m", "bench.dashboard", "--serve"],
            cwd=ROOT, env=side_env(side), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip

    def render(self, n: int) -> dict[str, list[Any]]:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(f"{n}\n")
        self.proc.stdin.flush()
        for line in self.proc.stdout:
            if line.startswith(REPLY):
                return json.loads(line[len(REPLY) :])
            sys.stdout.write(f"[{self.side}] {line}")
        raise RuntimeError(f"the {self.side} child exited with status {self.proc.wait()}")

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def prepare(side: str) -> None:
    recreate_database(f"{DB_NAME}_{side}")
    env = side_env(side)
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "clear_cache", "--all")  # this data set's keys only (under its own prefix)


def prepare_both() -> None:
    errors: list[BaseException] = []

    def run(side: str) -> None:
        try:
            prepare(side)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(side,)) for side in SIDES]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="measured rounds, the two sides interleaved")
    parser.add_argument("--renders", type=int, default=15, help="renders per side per round")
    parser.add_argument("--warmup", type=int, default=5, help="renders per side before measuring")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
        return 0

    began = time.monotonic()
    prepare_both()
    # Production serves hashed static URLs from collectstatic's manifest; the page asks it for each.
    manage(side_env("empty"), "collectstatic", "--noinput", "-v", "0")
    print("seeding the large data set ...", flush=True)
    seeding = time.monotonic()
    manage(side_env("large"), "shell", "-c", SEED)
    for side in SIDES:
        # Planner statistics, as autovacuum keeps them in production (a bulk-loaded table has
        # none until it runs, and it may be off on a bench server): without them PostgreSQL
        # scans all 100k events for a day's thousand.
        subprocess.run(["psql", f"{PG_ADMIN_URL}/{DB_NAME}_{side}", "-qc", "ANALYZE"], check=True, capture_output=True)
    print(f"seeded in {time.monotonic() - seeding:.0f} s", flush=True)

    children = {side: Child(side) for side in SIDES}
    ms: dict[str, list[float]] = {side: [] for side in SIDES}  # the median render of each round
    every: dict[str, list[float]] = {side: [] for side in SIDES}  # every render, for the p95
    queries: dict[str, Counter[int]] = {side: Counter() for side in SIDES}
    statuses: Counter[int] = Counter()
    try:
        for side in SIDES:
            children[side].render(args.warmup)  # the health report, templates, connections
        for i in range(args.rounds):
            # Alternate which side goes first, so warm-up and drift within a round favour neither.
            for side in SIDES if i % 2 == 0 else SIDES[::-1]:
                batch = children[side].render(args.renders)
                ms[side].append(statistics.median(batch["ms"]))
                every[side].extend(batch["ms"])
                queries[side].update(batch["queries"])
                statuses.update(batch["status"])
    finally:
        for child in children.values():
            child.close()

    print(f"\n{'data':<6} {'median ms':>9} {'min ms':>7} {'queries':>8}  ms per round (median of {args.renders})")
    for side in SIDES:
        count = "/".join(str(q) for q in sorted(queries[side]))
        per_round = " ".join(f"{m:.1f}" for m in ms[side])
        print(f"{side:<6} {statistics.median(ms[side]):>9.1f} {min(ms[side]):>7.1f} {count:>8}  {per_round}")

    per_round_ratio = [large / empty for large, empty in zip(ms["large"], ms["empty"], strict=True)]
    ratio = statistics.median(per_round_ratio)
    rounds = " ".join(f"{r:.2f}" for r in per_round_ratio)
    ratio_ok = ratio <= TARGET
    print(f"\nlarge/empty render time = {ratio:.2f} (target <= {TARGET}{'' if ratio_ok else ': NOT MET'})  [{rounds}]")
    queries_ok = len(queries["empty"]) == 1 and queries["empty"].keys() == queries["large"].keys()
    print(
        f"queries per render: empty {dict(sorted(queries['empty'].items()))}, "
        f"large {dict(sorted(queries['large'].items()))} "
        f"({'equal' if queries_ok else 'NOT EQUAL: {count: renders}'})"
    )
    failed = sum(n for status, n in statuses.items() if status != 200)
    if failed:
        print(f"{failed} renders did not answer 200 ({dict(statuses)}): the figures are not trustworthy")
    print(f"(run took {time.monotonic() - began:.0f} s)")
    verdict = Verdict(
        "staff dashboard, large data", "empty data", ratio, "<=", TARGET,
        p95_ms=statistics.quantiles(every["large"], n=20)[-1], error_rate=failed / max(sum(statuses.values()), 1),
        note="in-process renders, one at a time; p95 is the render time",
    )  # fmt: skip
    return report(verdict, checks_ok=queries_ok)


if __name__ == "__main__":
    raise SystemExit(main())

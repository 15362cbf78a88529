"""Rollup throughput: two event workers against one on the same machine, on PostgreSQL.

    .venv/bin/python -m bench.rollup [--events 120000 --pages 64 --rounds 3]

Target: two workers roll up at >= 1.7x one worker's rate (events/s, wall clock), and every round's
rollups are exact: the daily rollups, recomputed by hand from the raw events in SQL, equal the
rows the workers wrote (views, visitors, bounces, clicks, signups, pre-orders and the people
behind them, row by row).

The events are stored once, as the worker's ingest stores them (`insert_events`: numbered in
their pages' shards): `--pages` published pages of one project (their ids spread over the
EVENT_SHARDS shards), each with a running two-arm experiment; visitors of 1 to 4 events (views,
script beacons, call-to-action clicks, signups, pre-orders) with channels, UTM tags, referrers
and device classes, over `--days` days, in time order across pages as real traffic comes. Each
round then starts from nothing rolled up (the rollups, breakdowns and exposures emptied, every
shard's mark back to 0) and rolls the same rows up again: one worker, then two, alternating, so
drift of the machine hits both alike. A worker is a process of its own (`--worker`: Django set
up and connected before the clock starts) that runs the event worker's own pass
(`projects.events.rollup.rollup`) until no shard has rows waiting; the round's rate is the events
over the time from "go" until the last worker is done.

Printed for the record: events/s of each worker; the CPU one worker spends per event, in its own
process and in its PostgreSQL backend (/proc, when the server runs on this machine), the
machine's load aside; and what storage costs: bytes per stored event and per daily-rollup and
breakdown row (pg_total_relation_size: table, indexes and TOAST, over the row count, compacted).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.harness import PG_ADMIN_URL, PYTHON, ROOT, Verdict, fresh_stack, report

DB_NAME = "mvpvalidator_bench_rollup"
TARGET = 1.7
READY, DONE = "bench-rollup-ready", "bench-rollup-done "


# --- In a Django process: the data, and a worker ----------------------------------------------


def fill(*, events: int, pages: int, days: int, seed: int = 25) -> dict[str, Any]:
    """The project, its pages and experiments, and `events` rows stored through the platform."""
    import random
    import uuid
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone

    from projects.events.buffer import insert_events
    from projects.models import Event, EventKind, Traffic
    from projects.services.experiments import experiment_create, experiment_move
    from projects.services.pages import landing_page_create, landing_page_publish
    from projects.services.projects import project_create
    from projects.services.prototypes import prototype_generate
    from security.services import user_create

    rng = random.Random(seed)
    owner = user_create(email="rollup@bench.mvpvalidator.dev", password="rollup-bench-pass-1", name="Bench")  # noqa: S106
    project = project_create(
        owner=owner, name="Invoice Chaser", business_model="saas", price_point=Decimal("29.00"),
        idea_description="A tool that helps freelancers chase late invoices automatically.",
    )  # fmt: skip
    prototype_generate(project=project)
    arms: list[tuple[int, Any]] = []
    for n in range(pages):
        page = landing_page_publish(page=landing_page_create(project=project, slug=f"rollup-{n}"))
        experiment = experiment_create(
            page=page, name="Headline", variants=[{"key": "control", "weight": 1}, {"key": "b", "weight": 1}]
        )
        experiment_move(experiment=experiment, to="running")
        arms.append((page.pk, experiment))
    channels = ("direct", "search", "paid", "social", "email", "referral")
    sources = ("", "", "", "google", "meta", "newsletter", "linkedin")
    referrers = ("", "", "www.google.com", "news.ycombinator.com", "t.co", "www.reddit.com")
    devices = ("desktop", "desktop", "phone", "phone", "tablet", "other")
    start = timezone.now() - timedelta(days=days)
    span = days * 86400 - 3600
    made: list[tuple[float, Event]] = []
    while len(made) < events:
        page_id, experiment = rng.choice(arms)
        visitor = uuid.UUID(int=rng.getrandbits(128)).hex * 2
        variant = rng.choice(("control", "b"))  # once per visitor: sticky, as the page assigns it
        traffic = Traffic.BOT if rng.random() < 0.05 else Traffic.HUMAN
        tags = {"utm_source": rng.choice(sources), "referrer_host": rng.choice(referrers)}
        common = {
            "page_id": page_id, "experiment_id": experiment.pk, "variant": variant, "traffic": traffic,
            "channel": rng.choice(channels), "visitor_hash": visitor, "device": rng.choice(devices), **tags,
        }  # fmt: skip
        at = rng.random() * span
        kinds = [EventKind.VIEW] + rng.choices(
            (EventKind.VIEW, EventKind.BEACON, EventKind.CTA_CLICK, EventKind.SIGNUP, EventKind.PREORDER),
            weights=(3, 4, 2, 1, 1),
            k=rng.choice((0, 0, 1, 2, 3)),
        )
        for i, kind in enumerate(kinds):
            moment = start + timedelta(seconds=at + i * rng.randint(5, 900))
            made.append((moment.timestamp(), Event(key=uuid.uuid4().hex, kind=kind, occurred_at=moment,
                                                   day=moment.date(), **common)))  # fmt: skip
    made.sort(key=lambda pair: pair[0])
    rows = [event for _, event in made[:events]]
    for i in range(0, len(rows), 10_000):
        insert_events(rows[i : i + 10_000])
    return {"events": len(rows), "pages": pages}


def cpu_seconds(pid: int) -> float | None:
    """The CPU time a process has used (its PostgreSQL backend's, when the server runs on this
    machine and /proc shows it); None otherwise."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def worker() -> None:
    """Wait for "go" on stdin, then roll up until no shard has rows waiting; print what it did."""
    import django

    django.setup()
    from django.db import connection

    from projects.events import shards
    from projects.events.rollup import rollup

    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    print(READY, flush=True)
    sys.stdin.readline()
    started, cpu, db_cpu = time.perf_counter(), time.process_time(), cpu_seconds(backend)
    rolled = busy_passes = idle_passes = 0
    while True:
        n = rollup()
        rolled += n
        if n:
            busy_passes += 1
            continue
        if not shards.with_work():
            break
        idle_passes += 1  # every shard with rows waiting is held by the other worker
        time.sleep(0.005)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    db_cpu = cpu_seconds(backend) - db_cpu if db_cpu is not None else None
    print(DONE + json.dumps({"rolled": rolled, "seconds": seconds, "cpu": cpu, "db_cpu": db_cpu, "passes": busy_passes,
                             "idle": idle_passes}))  # fmt: skip


# --- The parent --------------------------------------------------------------------------------


def psql(env: dict[str, str], sql: str) -> list[list[str]]:
    out = subprocess.run(
        ["psql", env["DATABASE_URL"], "-AtF", "\t", "-c", sql], check=True, capture_output=True, text=True
    ).stdout
    return [line.split("\t") for line in out.splitlines() if line]


RESET = """
TRUNCATE projects_dailyrollup, projects_breakdownrollup, projects_experimentexposure;
UPDATE projects_variant SET people = 0, converted = 0;
UPDATE projects_eventworkerstate SET rolled_up_to = 0, events_rolled_up = 0, last_rollup_at = NULL;
"""

# The daily rollups recomputed from the raw events (as `projects.events.rollup` defines them: a
# visitor's events of a day in one row; a bounce, one interaction that is a view), every row whose
# figures are not all zero, in a fixed order; and the same of the rows the workers wrote.
BY_HAND = """
WITH visits AS (
    SELECT page_id, day, COALESCE(experiment_id, 0) AS experiment, variant, channel, traffic, visitor_hash,
           COUNT(*) FILTER (WHERE kind <> 'beacon') AS interactions,
           COUNT(*) FILTER (WHERE kind = 'view') AS views,
           COUNT(*) FILTER (WHERE kind = 'cta_click') AS clicks,
           COUNT(*) FILTER (WHERE kind = 'signup') AS signups,
           COUNT(*) FILTER (WHERE kind = 'preorder') AS preorders
    FROM projects_event GROUP BY 1, 2, 3, 4, 5, 6, 7
), figures AS (
    SELECT page_id, day, experiment, variant, channel, traffic,
           SUM(views) AS views, COUNT(*) FILTER (WHERE interactions > 0) AS visitors,
           SUM(clicks) AS cta_clicks, SUM(signups) AS signups, SUM(preorders) AS preorders,
           COUNT(*) FILTER (WHERE interactions = 1 AND views = 1) AS bounces,
           COUNT(*) FILTER (WHERE clicks > 0) AS clicked_visitors,
           COUNT(*) FILTER (WHERE signups > 0) AS signed_up_visitors,
           COUNT(*) FILTER (WHERE preorders > 0) AS preordered_visitors
    FROM visits GROUP BY 1, 2, 3, 4, 5, 6
)
SELECT md5(string_agg(concat_ws(',', page_id, day, experiment, variant, channel, traffic, views, visitors,
                                cta_clicks, signups, preorders, bounces, clicked_visitors, signed_up_visitors,
                                preordered_visitors),
                      ';' ORDER BY page_id, day, experiment, variant, channel, traffic)),
       COUNT(*), SUM(views)
FROM figures WHERE views + visitors + cta_clicks + signups + preorders > 0
"""
STORED = """
SELECT md5(string_agg(concat_ws(',', page_id, day, COALESCE(experiment_id, 0), variant, channel, traffic, views,
                                visitors, cta_clicks, signups, preorders, bounces, clicked_visitors,
                                signed_up_visitors, preordered_visitors),
                      ';' ORDER BY page_id, day, COALESCE(experiment_id, 0), variant, channel, traffic)),
       COUNT(*), SUM(views)
FROM projects_dailyrollup WHERE views + visitors + cta_clicks + signups + preorders > 0
"""


def run_round(env: dict[str, str], workers: int) -> dict[str, Any]:
    psql(env, RESET)
    psql(env, "VACUUM ANALYZE projects_eventworkerstate, projects_variant")
    procs = [
        subprocess.Popen(
            [PYTHON, "-m", "bench.rollup", "--worker"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for _ in range(workers)
    ]
    for proc in procs:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.strip() == READY:
                break
            sys.stdout.write(line)
    started = time.perf_counter()
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    results = []
    for proc in procs:
        assert proc.stdout is not None
        out, _ = proc.communicate(timeout=3600)
        done = [line for line in out.splitlines() if line.startswith(DONE)]
        if proc.returncode or not done:
            raise RuntimeError(f"a rollup worker failed (status {proc.returncode}):\n{out}")
        results.append(json.loads(done[-1][len(DONE) :]))
    wall = time.perf_counter() - started
    rolled = sum(r["rolled"] for r in results)
    return {"workers": results, "wall": wall, "rolled": rolled, "rate": rolled / wall}


def sizes(env: dict[str, str]) -> dict[str, float]:
    """Bytes per row of each table (table, indexes and TOAST together, over its partitions), compacted first: a day's
    rollup rows are rewritten while the day lasts, then never again."""
    tables = ("projects_event", "projects_dailyrollup", "projects_breakdownrollup")
    psql(env, f"VACUUM FULL ANALYZE {', '.join(tables)}")
    out: dict[str, float] = {}
    for table in tables:
        # The partitions' sizes (a partitioned table has none of its own; a plain one no tree).
        size, rows = psql(
            env,
            f"SELECT COALESCE((SELECT SUM(pg_total_relation_size(relid)) FROM pg_partition_tree('{table}')), "  # noqa: S608
            f"pg_total_relation_size('{table}')), COUNT(*) FROM {table}",
        )[0]
        out[table] = int(size) / max(int(rows), 1)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=120_000, help="events stored (then rolled up each round)")
    parser.add_argument("--pages", type=int, default=64, help="pages (over EVENT_SHARDS shards)")
    parser.add_argument("--days", type=int, default=14, help="days the events span")
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds per side, interleaved")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--fill", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker()
        return 0
    if args.fill:
        import django

        django.setup()
        print(json.dumps(fill(events=args.events, pages=args.pages, days=args.days)))
        return 0

    began = time.monotonic()
    env = fresh_stack(DB_NAME)
    print(f"storing {args.events} events on {args.pages} pages ...", flush=True)
    subprocess.run(
        [PYTHON, "-m", "bench.rollup", "--fill", "--events", str(args.events), "--pages", str(args.pages),
         "--days", str(args.days)],
        cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    psql(env, "VACUUM ANALYZE")
    events = int(psql(env, "SELECT COUNT(*) FROM projects_event")[0][0])
    expected = psql(env, BY_HAND)[0]
    print(f"stored in {time.monotonic() - began:.0f} s: {events} events, {expected[1]} daily rollup rows by hand")

    rates: dict[int, list[float]] = {1: [], 2: []}
    per_worker: dict[int, list[float]] = {1: [], 2: []}
    cpu = {"worker": 0.0, "database": 0.0, "events": 0}  # of the one-worker rounds
    exact = True
    for i in range(args.rounds):
        for workers in (1, 2) if i % 2 == 0 else (2, 1):
            result = run_round(env, workers)
            stored = psql(env, STORED)[0]
            same = stored == expected and result["rolled"] == events
            exact &= same
            rates[workers].append(result["rate"])
            per_worker[workers].extend(r["rolled"] / r["seconds"] for r in result["workers"])
            if workers == 1 and result["workers"][0]["db_cpu"] is not None:
                cpu["worker"] += result["workers"][0]["cpu"]
                cpu["database"] += result["workers"][0]["db_cpu"]
                cpu["events"] += result["rolled"]
            shares = " + ".join(str(r["rolled"]) for r in result["workers"])
            print(
                f"round {i + 1}, {workers} worker(s): {result['rolled']} events ({shares}) in {result['wall']:.1f} s"
                f" = {result['rate']:.0f} events/s; rollups {'exact' if same else f'WRONG: {stored} != {expected}'}",
                flush=True,
            )
    table_sizes = sizes(env)

    one, two = statistics.median(rates[1]), statistics.median(rates[2])
    ratio = two / one
    print(f"\n{'workers':<8} {'events/s':>9} {'per worker':>11}  events/s per round")
    for n in (1, 2):
        per_round = " ".join(f"{r:.0f}" for r in rates[n])
        print(f"{n:<8} {statistics.median(rates[n]):>9.0f} {statistics.median(per_worker[n]):>11.0f}  {per_round}")
    print(f"\ntwo workers / one = {ratio:.2f} (target >= {TARGET}{'' if ratio >= TARGET else ': NOT MET'})")
    print(
        f"storage: {table_sizes['projects_event']:.0f} bytes per stored event, "
        f"{table_sizes['projects_dailyrollup']:.0f} per daily rollup row, "
        f"{table_sizes['projects_breakdownrollup']:.0f} per breakdown row (table + indexes)"
    )
    if cpu["events"]:
        # What a worker costs in CPU, whatever else the machine runs: the figure for sizing.
        worker_us, database_us = (cpu[k] / cpu["events"] * 1e6 for k in ("worker", "database"))
        print(
            f"CPU per event rolled up (one worker): {worker_us:.0f} µs in the worker + {database_us:.0f} µs in its "
            f"PostgreSQL backend = {1e6 / (worker_us + database_us):.0f} events/s per worker given a core"
        )
    print(f"load average of the machine at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"every round's rollups equal the events counted by hand: {'yes' if exact else 'NO'}")
    print(f"(run took {time.monotonic() - began:.0f} s; database {PG_ADMIN_URL}/{DB_NAME})")
    verdict = Verdict(
        "event rollup, two workers", "one worker", ratio, ">=", TARGET,
        note=f"{one:.0f} vs {two:.0f} events/s; {table_sizes['projects_event']:.0f} bytes per stored event",
    )  # fmt: skip
    return report(verdict, checks_ok=exact)


if __name__ == "__main__":
    raise SystemExit(main())

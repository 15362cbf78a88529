"""Landing page throughput with an experiment running and tracking on: GET /p/<slug>/ through
gunicorn on PostgreSQL + Redis, as a ratio to a bare Django view served the same way in the same
run; then the event worker's flush rate on what the page buffered.

    make bench-landing            # or: .venv/bin/python -m bench.landing [--seconds 5 --rounds 3]

Targets: landing/bare throughput >= 0.5; the worker moves and rolls up events at least as fast
as the page produces them at its peak (flush events/s >= page views/s).

wrk sends no cookie, so every request is a first visit (the common case of a landing page fed
by ads): a new visitor id, a variant assigned by hash, a new CSRF cookie, one event buffered.
No worker runs during the page rounds; the buffer then holds every view served, which
`flush_events` (timed in-process, batches as the worker takes them) moves into PostgreSQL and
the rollups. Its count must equal the requests wrk completed.
"""

from bench.harness import (
    Gunicorn,
    alternate,
    fresh_stack,
    load_arguments,
    load_verdict,
    manage,
    median_rps,
    print_results,
    report,
    shell_json,
)

DB_NAME = "mvpvalidator_bench_landing"
TARGET = 0.5
PAGE = "/p/invoice-chaser-demo/"

START_EXPERIMENT = """
from projects.models import LandingPage
from projects.services.experiments import experiment_create, experiment_move
page = LandingPage.objects.get(slug="invoice-chaser-demo")
experiment = experiment_create(page=page, name="Headline", variants=[
    {"key": "control", "weight": 1},
    {"key": "b", "weight": 1, "headline": "Get paid on time without chasing anyone"},
])
experiment_move(experiment=experiment, to="running")
"""

FLUSH = """
import json, time
from django.db import connection
from projects.events import ingest, worker
from projects.models import Event, DailyRollup
from django.db.models import Sum
buffered = ingest.buffered()
started = time.perf_counter()
moved = rolled = 0
while True:
    result = worker.flush(consumer="bench")
    moved += result.ingested
    rolled += result.rolled_up
    if not result.ingested and not result.rolled_up:
        break
seconds = time.perf_counter() - started
print(json.dumps({
    "buffered": buffered, "moved": moved, "rolled_up": rolled, "seconds": seconds,
    "views": Event.objects.filter(kind="view").count(),
    "rollup_views": DailyRollup.objects.aggregate(n=Sum("views"))["n"] or 0,
}))
"""


def main() -> int:
    parser = load_arguments(__doc__)
    args = parser.parse_args()

    env = fresh_stack(DB_NAME, static=True, demo=True)
    manage(env, "shell", "-c", START_EXPERIMENT)

    with Gunicorn(env, workers=args.workers) as server:
        workloads = {"bare view": f"{server.base}/bench/bare", "landing page": f"{server.base}{PAGE}"}
        warm = alternate(workloads, rounds=1, seconds=1, connections=args.connections)
        results = alternate(workloads, rounds=args.rounds, seconds=args.seconds, connections=args.connections)
    served = sum(r.requests for r in warm["landing page"] + results["landing page"])
    flush = shell_json(env, FLUSH)

    bare, page = median_rps(results["bare view"]), median_rps(results["landing page"])
    ratio = page / bare
    print_results(results, decimals=1)
    rate = flush["moved"] / flush["seconds"] if flush["seconds"] else 0.0
    print(
        f"worker: {flush['moved']} events moved and {flush['rolled_up']} rolled up in {flush['seconds']:.2f} s"
        f" = {rate:.0f} events/s; page peak {page:.0f} views/s (target: flush rate >= peak)"
    )
    # wrk counts the responses it read; a request in flight when a run ends is still served
    # (and counted) by the server: at most one per connection per run.
    runs = len(warm["landing page"]) + len(results["landing page"])
    in_flight = args.connections * runs
    counted = flush["views"] == flush["rollup_views"] and served <= flush["views"] <= served + in_flight
    print(
        f"views answered to wrk {served} (+ up to {in_flight} in flight at the end of a run), stored "
        f"{flush['views']}, in the rollups {flush['rollup_views']}: {'all counted once' if counted else 'MISMATCH'}"
    )
    verdict = load_verdict(
        "landing page, experiment running", "bare Django view", ratio=ratio, op=">=", target=TARGET,
        runs=results["landing page"], note=f"worker flush {rate:.0f} events/s vs page peak {page:.0f} views/s",
    )  # fmt: skip
    return report(verdict, checks_ok=rate >= page and counted)


if __name__ == "__main__":
    raise SystemExit(main())

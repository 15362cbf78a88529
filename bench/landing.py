"""Landing page throughput with an experiment running and tracking on: GET /p/<slug>/ through
gunicorn on PostgreSQL + Redis in production mode, against two references served in the same run,
interleaved round by round; then the event worker's flush rate on what the page buffered.

    make bench-landing            # or: .venv/bin/python -m bench.landing [--seconds 5 --rounds 3]

Targets, each landing/reference throughput >= 0.5:
- against a bare Django app (`bench.bare_app`: Django's SecurityMiddleware and CommonMiddleware
  only, a static page of about 1.5 KB), under gunicorn with as many workers, every request from
  an address of its own behind a trusted proxy (`distinct_addresses.lua`), as visitors arrive:
  what the platform costs a visitor, whole;
- against a trivial view behind the platform's whole middleware stack, on the same server, from
  one address: what the page's own work costs.
And the worker moves and rolls up events at least as fast as the page produces them at its peak
(flush events/s >= page views/s).

wrk sends no cookie, so every request is a first visit (the common case of a landing page fed
by ads): a new visitor id, a variant assigned by hash, a form token, one event buffered.
No worker runs during the page rounds; the buffer then holds every view served, which
`flush_events` (timed in-process, batches as the worker takes them) moves into PostgreSQL and
the rollups. Its count must equal the requests wrk completed.
"""

import tempfile
from pathlib import Path

from bench.harness import (
    ROOT,
    Gunicorn,
    WrkResult,
    fresh_stack,
    load_arguments,
    load_verdict,
    manage,
    median_rps,
    print_results,
    report,
    report_script,
    shell_json,
    wrk,
)

DB_NAME = "mvpvalidator_bench_landing"
TARGET = 0.5
PAGE = "/p/invoice-chaser-demo/"
WRK_THREADS = 2
# Each run of the distinct-address workloads starts this many addresses after the previous one:
# more than a run sends (a 10 s run at 20,000 req/s), so no address comes back in a later run.
ADDRESSES_PER_RUN = 1 << 20
DISTINCT_ADDRESSES_SCRIPT = ROOT / "bench" / "distinct_addresses.lua"

# The demo's page runs an experiment already (its history); on a seed without one, one is started.
START_EXPERIMENT = """
from projects.models import Experiment, LandingPage
from projects.services.experiments import experiment_create, experiment_move
page = LandingPage.objects.get(slug="invoice-chaser-demo")
if not Experiment.objects.filter(page=page, status="running").exists():
    experiment = experiment_create(page=page, name="Headline", variants=[
        {"key": "control", "weight": 1},
        {"key": "b", "weight": 1, "headline": "Get paid on time without chasing anyone"},
    ])
    experiment_move(experiment=experiment, to="running")
print(Experiment.objects.get(page=page, status="running").name)
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


class Addresses:
    """wrk scripts whose requests each come from an address of their own, a fresh block per run."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.runs = 0

    def next_script(self) -> Path:
        first = self.runs * ADDRESSES_PER_RUN
        self.runs += 1
        script = self.folder / f"addresses-{self.runs}.lua"
        script.write_text(
            f"first_address = {first}\nwrk_threads = {WRK_THREADS}\n"
            + DISTINCT_ADDRESSES_SCRIPT.read_text()
            + report_script()
        )
        return script


def measure(
    workloads: dict[str, tuple[str, bool]], addresses: Addresses, *, rounds: int, seconds: int, connections: int
) -> dict[str, list[WrkResult]]:
    """Each workload (its URL, and whether each request comes from an address of its own)
    `rounds` times, interleaved, so drift on the machine hits all alike."""
    results: dict[str, list[WrkResult]] = {name: [] for name in workloads}
    for _ in range(rounds):
        for name, (url, distinct) in workloads.items():
            script = {"script": addresses.next_script()} if distinct else {}
            results[name].append(wrk(url, seconds=seconds, connections=connections, threads=WRK_THREADS, **script))
    return results


def main() -> int:
    parser = load_arguments(__doc__)
    args = parser.parse_args()

    # Loopback is the trusted proxy: the distinct-address workloads say who the visitor is in
    # X-Forwarded-For, as a load balancer does; the others send none and are loopback itself.
    # PUBLIC_BASE_URL as production sets it (the deployment checklist: the emails' links).
    env = fresh_stack(DB_NAME, static=True, demo=True, TRUSTED_PROXIES="127.0.0.1", PUBLIC_BASE_URL="http://127.0.0.1")
    experiment = manage(env, "shell", "-c", START_EXPERIMENT).strip().splitlines()[-1]
    print(f"experiment running on {PAGE}: {experiment}")
    # The demo's own history is rows and rollups already (and maybe a buffer): flushed and
    # counted first, so what follows counts this run's views alone.
    before = shell_json(env, FLUSH)

    with (
        tempfile.TemporaryDirectory() as tmp,
        Gunicorn(env, workers=args.workers) as server,
        Gunicorn(env, workers=args.workers, app="bench.bare_app") as bare_app,
    ):
        addresses = Addresses(Path(tmp))
        workloads = {
            "bare app": (f"{bare_app.base}{PAGE}", True),
            "landing/a": (f"{server.base}{PAGE}", True),
            "bare view": (f"{server.base}/bench/bare", False),
            "landing/1": (f"{server.base}{PAGE}", False),
        }
        load = {"seconds": args.seconds, "connections": args.connections}
        warm = measure(workloads, addresses, rounds=1, **{**load, "seconds": 1})
        results = measure(workloads, addresses, rounds=args.rounds, **load)
    landing = ("landing/a", "landing/1")
    served = sum(r.requests for name in landing for r in warm[name] + results[name])
    flush = shell_json(env, FLUSH)
    views, rollup_views = flush["views"] - before["views"], flush["rollup_views"] - before["rollup_views"]

    print("\nlanding/a: a new address per request (X-Forwarded-For); landing/1: one address")
    print_results(results, decimals=1)
    rps = {name: median_rps(runs) for name, runs in results.items()}
    page = max(rps[name] for name in landing)
    rate = flush["moved"] / flush["seconds"] if flush["seconds"] else 0.0
    print(
        f"worker: {flush['moved']} events moved and {flush['rolled_up']} rolled up in {flush['seconds']:.2f} s"
        f" = {rate:.0f} events/s; page peak {page:.0f} views/s (target: flush rate >= peak)"
    )
    # wrk counts the responses it read; a request in flight when a run ends is still served
    # (and counted) by the server: at most one per connection per run.
    runs = sum(len(warm[name]) + len(results[name]) for name in landing)
    in_flight = args.connections * runs
    counted = views == rollup_views and served <= views <= served + in_flight
    print(
        f"views answered to wrk {served} (+ up to {in_flight} in flight at the end of a run), stored "
        f"{views}, in the rollups {rollup_views}: {'all counted once' if counted else 'MISMATCH'}"
    )
    verdicts = (
        load_verdict(
            "landing page, each request its own address", "bare Django app (static 1.5 KB page)",
            ratio=rps["landing/a"] / rps["bare app"], op=">=", target=TARGET, runs=results["landing/a"],
            note=f"{rps['landing/a']:.0f} vs {rps['bare app']:.0f} req/s, 2 gunicorn workers each",
        ),
        load_verdict(
            "landing page, experiment running", "bare Django view", ratio=rps["landing/1"] / rps["bare view"],
            op=">=", target=TARGET, runs=results["landing/1"],
            note=f"worker flush {rate:.0f} events/s vs page peak {page:.0f} views/s",
        ),
    )  # fmt: skip
    return report(*verdicts, checks_ok=rate >= page and counted)


if __name__ == "__main__":
    raise SystemExit(main())

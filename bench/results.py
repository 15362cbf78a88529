"""Experiment results: an uncached results request of a 5-arm experiment as a ratio to a 2-arm
one, and how often the results come from the cache after rollups that change nothing they are
computed from; on PostgreSQL + Redis with the production settings, in one process.

    .venv/bin/python -m bench.results [--rounds 7 --requests 9 --visitors 300 --cycles 24]

Targets: 5-arm / 2-arm time of an uncached request <= 3; hit rate >= 0.9 of the results requests
that follow a rollup leaving the experiment's figures as they were. Exit status 1 when either is
missed or a check fails (the two sides' query counts differ, an uncached request did not compute,
a rollup that changed the experiment's figures was not followed by new figures, the quiet cycles'
rollups did not roll up the founder's views of the experiment).

The data: one project, two pages with the same traffic (`--visitors` people a day for 30 days,
made and rolled up as the demo's are, `projects.demo_traffic`), one running an experiment of the
page against one of its variants, the other against four of them; and a third page with no
experiment. The same people split 2 or 5 ways: what differs between the two requests is the
number of arms.

Uncached: GET /api/experiments/<id>/results as the owner with a JWT, through the whole
middleware, in-process (Django's test Client; an HTTP server would add the same constant to both
sides). Before each request the experiment's results namespace is bumped, as an edit does, so
every request computes. The sides alternate request by request and which goes first alternates
each round; a round's figure per side is its median request, the verdict the median of the
per-round ratios.

Cached: cycles of traffic, each flushed and rolled up by the worker's own code (`manage.py
flush_events`), each followed by one results request of the 5-arm experiment. Most cycles leave
its figures alone: people on the page with no experiment, and the founder, signed in, looking at
the experiment's page (events of the experiment, which the rollup counts as the founder's and the
results never). Every fourth cycle a new person sees the experiment's page and runs its script:
the next request must then compute, with one more visitor. A request is a hit when its
`computed_at` is the previous request's.
"""

import argparse
import io
import os
import statistics
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from bench.harness import Verdict, fresh_stack, report

DB_NAME = "mvpvalidator_bench_results"
# Its own Redis database (keys under the benchmark's own prefix, from stack_env).
REDIS_URL = os.environ.get("BENCH_RESULTS_REDIS_URL", "redis://127.0.0.1:6379/12")
RATIO_TARGET = 3.0
HIT_RATE_TARGET = 0.9
DAYS = 30
# Every CHANGE_EVERY-th cycle of the cached phase brings a new person to the experiment.
CHANGE_EVERY = 4
# People arrive with a browser's user agent (no agent at all is an HTTP library: a known bot).
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
FOUNDER_PASSWORD = "results-bench-founder-pass"  # noqa: S105 - a throwaway benchmark account
VARIANTS = (
    ("Paid on time", {"headline": "Get paid on time, without the awkward emails"}),
    ("Hours back", {"headline": "Win back four hours a month of invoice chasing"}),
    ("Deposits", {"subheadline": "See who pays late, and ask them for a deposit next time."}),
    ("Short", {"headline": "Invoices, chased for you"}),
)


# --- Data ---------------------------------------------------------------------------------------


def seed(*, visitors: int) -> dict[str, Any]:
    """The founder, their project and its three pages, with 30 days of traffic on the two
    experiments' pages; returns the owner, the experiments by arm count and the quiet page."""
    from projects.demo_setup import experiment_seed, page_launch, page_variants_seed
    from projects.demo_traffic import traffic_seed
    from projects.services.pages import landing_page_create
    from projects.services.projects import project_create
    from projects.services.prototypes import prototype_generate
    from security.services import user_create

    owner = user_create(email="results@bench.mvpvalidator.dev", password=FOUNDER_PASSWORD, name="Bench Founder")
    project = project_create(
        owner=owner,
        name="Invoice chaser",
        idea_description="A tool that chases late invoices for freelancers, politely and on time.",
        business_model="saas",
        price_point=Decimal("19.00"),
    )
    prototype_generate(project=project)
    launched = datetime.now(UTC).replace(hour=6, minute=0, second=0, microsecond=0) - timedelta(days=DAYS)
    experiments = {}
    for arms in (2, 5):
        page = landing_page_create(project=project, slug=f"results-{arms}-arms")
        variants = page_variants_seed(page=page, specs=VARIANTS[: arms - 1])
        page = page_launch(page=page, at=launched)
        experiments[arms] = experiment_seed(
            page=page, name=f"{arms} arms", variants=variants, started=launched + timedelta(hours=1), seed=arms
        )
        traffic_seed(page=page, days=DAYS, visitors_per_day=visitors, seed=7)
    quiet = page_launch(page=landing_page_create(project=project, slug="results-no-experiment"), at=launched)
    return {"owner": owner, "experiments": experiments, "quiet_slug": quiet.slug}


# --- Measuring ----------------------------------------------------------------------------------


def api_client(owner: Any) -> Any:
    from django.test import Client
    from rest_framework_simplejwt.tokens import AccessToken

    return Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(owner)}")


def results_url(experiment: Any) -> str:
    return f"/api/experiments/{experiment.pk}/results"


def uncached_request(client: Any, experiment: Any) -> dict[str, Any]:
    """One results request with the experiment's results invalidated first (not timed)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from mvpvalidator import cache as app_cache
    from projects import cache as keys

    app_cache.bump(keys.experiment_ns(experiment.pk))
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        response = client.get(results_url(experiment))
        elapsed = time.perf_counter() - started
    body = response.json() if response.status_code == 200 else {}
    return {
        "ms": elapsed * 1000,
        "queries": len(queries.captured_queries),
        "status": response.status_code,
        "computed_at": body.get("computed_at"),
    }


def measure_uncached(client: Any, experiments: dict[int, Any], *, rounds: int, requests: int) -> dict[str, Any]:
    sides = sorted(experiments)
    for side in sides:  # warm-up: connections, the identity cache, imports, numpy's first call
        for _ in range(3):
            uncached_request(client, experiments[side])
    medians: dict[int, list[float]] = {side: [] for side in sides}
    every: dict[int, list[dict[str, Any]]] = {side: [] for side in sides}
    for i in range(rounds):
        order = sides if i % 2 == 0 else sides[::-1]
        batch: dict[int, list[float]] = {side: [] for side in sides}
        for _ in range(requests):
            for side in order:
                result = uncached_request(client, experiments[side])
                batch[side].append(result["ms"])
                every[side].append(result)
        for side in sides:
            medians[side].append(statistics.median(batch[side]))
    return {"medians": medians, "every": every}


def visit(slug: str, *, people: int = 0, founder: Any | None = None) -> None:
    """New people on the page `slug` (a view and the page's script each), and the founder's
    views (a signed-in client) when given."""
    from django.test import Client

    for _ in range(people):
        person = Client(HTTP_HOST="localhost", HTTP_USER_AGENT=BROWSER)
        assert person.get(f"/p/{slug}/").status_code == 200
        assert person.post(f"/p/{slug}/e", {"k": "beacon"}).status_code < 400
    if founder is not None:
        for _ in range(2):
            assert founder.get(f"/p/{slug}/").status_code == 200


def roll_up() -> None:
    """The worker: this process's outbox into the Redis buffer, the buffer into rows, the rows
    into the rollups (what `run_worker` does, once)."""
    from django.core.management import call_command

    from mvpvalidator import background

    background.flush_all()
    call_command("flush_events", stdout=io.StringIO())


def founder_views(experiment: Any) -> int:
    """The founder's views of the experiment in its rollups (what the results leave out)."""
    from django.db.models import Sum

    from projects.models import DailyRollup, Traffic

    rows = DailyRollup.objects.filter(experiment=experiment, traffic=Traffic.FOUNDER)
    return rows.aggregate(views=Sum("views"))["views"] or 0


def measure_cached(client: Any, owner: Any, experiment: Any, *, quiet_slug: str, cycles: int) -> dict[str, Any]:
    from django.test import Client

    founder = Client(HTTP_HOST="localhost", HTTP_USER_AGENT=BROWSER)
    founder.force_login(owner)
    url = results_url(experiment)
    previous = client.get(url).json()
    previewed = founder_views(experiment)
    hits = quiet = changed = recomputed = 0
    for cycle in range(1, cycles + 1):
        changing = cycle % CHANGE_EVERY == 0
        if changing:
            visit(experiment.page.slug, people=1)
        else:
            visit(quiet_slug, people=3)
            visit(experiment.page.slug, founder=founder)
        roll_up()
        body = client.get(url).json()
        fresh = body["computed_at"] != previous["computed_at"]
        visitors_before = sum(arm["visitors"] for arm in previous["arms"])
        visitors_now = sum(arm["visitors"] for arm in body["arms"])
        if changing:
            changed += 1
            recomputed += int(fresh and visitors_now == visitors_before + 1)
        else:
            quiet += 1
            hits += int(not fresh)
        previous = body
    # The quiet cycles' rollups did roll up events of the experiment (the founder's 2 views each).
    touched = founder_views(experiment) - previewed == 2 * quiet
    return {"hits": hits, "quiet": quiet, "changed": changed, "recomputed": recomputed, "touched": touched}


# --- The run ------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="measured rounds, the two sides interleaved")
    parser.add_argument("--requests", type=int, default=9, help="uncached requests per side per round")
    parser.add_argument("--visitors", type=int, default=300, help="people a day on each experiment's page")
    parser.add_argument("--cycles", type=int, default=24, help="traffic cycles of the cached phase")
    args = parser.parse_args()

    began = time.monotonic()
    # The slow-operation record (a monitoring write) would land on some requests and not others.
    env = fresh_stack(DB_NAME, static=True, REDIS_URL=REDIS_URL, SLOW_OPERATION_THRESHOLD_MS="600000")
    os.environ.update(env)
    import django

    django.setup()
    print(f"seeding two pages of {args.visitors} people a day for {DAYS} days ...", flush=True)
    seeding = time.monotonic()
    data = seed(visitors=args.visitors)
    experiments = data["experiments"]
    print(f"seeded in {time.monotonic() - seeding:.0f} s", flush=True)
    client = api_client(data["owner"])

    uncached = measure_uncached(client, experiments, rounds=args.rounds, requests=args.requests)
    print(f"\n{'arms':<5} {'people':>7} {'median ms':>9} {'min ms':>7} {'queries':>8}  ms per round")
    for side, every in uncached["every"].items():
        first = client.get(results_url(experiments[side])).json()
        people = sum(arm["visitors"] for arm in first["arms"])
        ms = uncached["medians"][side]
        counts = "/".join(str(q) for q in sorted({r["queries"] for r in every}))
        per_round = " ".join(f"{m:.1f}" for m in ms)
        print(f"{side:<5} {people:>7} {statistics.median(ms):>9.1f} {min(ms):>7.1f} {counts:>8}  {per_round}")
    ratios = [five / two for five, two in zip(uncached["medians"][5], uncached["medians"][2], strict=True)]
    ratio = statistics.median(ratios)
    print(f"\n5-arm / 2-arm uncached request time = {ratio:.2f} (target <= {RATIO_TARGET})  "
          f"[{' '.join(f'{r:.2f}' for r in ratios)}]")  # fmt: skip
    queries = {side: {r["queries"] for r in every} for side, every in uncached["every"].items()}
    queries_ok = len(queries[2]) == 1 and queries[2] == queries[5]
    print(f"queries per uncached request: {queries} ({'equal' if queries_ok else 'NOT EQUAL'})")
    stamps = [r["computed_at"] for every in uncached["every"].values() for r in every]
    computed_ok = None not in stamps and len(set(stamps)) == len(stamps)
    print(f"every uncached request computed its figures: {'yes' if computed_ok else 'NO'}")
    five = uncached["every"][5]
    failed = sum(1 for r in [*five, *uncached["every"][2]] if r["status"] != 200)

    cached = measure_cached(client, data["owner"], experiments[5], quiet_slug=data["quiet_slug"], cycles=args.cycles)
    hit_rate = cached["hits"] / max(cached["quiet"], 1)
    print(
        f"\ncached phase: {cached['hits']} of {cached['quiet']} requests after rollups that changed nothing of "
        f"the experiment's figures served from the cache (hit rate {hit_rate:.2f}, target >= {HIT_RATE_TARGET}); "
        f"{cached['recomputed']} of {cached['changed']} after a rollup that added a visitor recomputed with them"
    )
    print(f"the founder's views of the experiment rolled up in those cycles: {'yes' if cached['touched'] else 'NO'}")
    changes_ok = cached["recomputed"] == cached["changed"] and cached["touched"]
    print(f"(run took {time.monotonic() - began:.0f} s)")
    verdicts = (
        Verdict(
            "experiment results, 5 arms, uncached", "2 arms, same traffic", ratio, "<=", RATIO_TARGET,
            p95_ms=statistics.quantiles([r["ms"] for r in five], n=20)[-1],
            error_rate=failed / (len(five) + len(uncached["every"][2])),
            note="in-process API requests, one at a time, the results invalidated before each; p95 of the 5 arms",
        ),
        Verdict(
            "experiment results, after rollups leaving them unchanged", "requests served from the cache", hit_rate,
            ">=", HIT_RATE_TARGET,
            note="a hit: the same computed_at as the previous request; a rollup adding a visitor recomputes",
        ),
    )  # fmt: skip
    return report(*verdicts, checks_ok=queries_ok and computed_ok and changes_ok)


if __name__ == "__main__":
    raise SystemExit(main())

"""Project cache: hit rate and throughput of GET /api/projects/<id>/ under a Zipf-distributed
read workload with a share of writes, as a ratio to the same endpoint served with query caching
off (`ENABLE_QUERY_CACHE=false`), both through gunicorn on PostgreSQL + Redis in the same run.

    .venv/bin/python -m bench.cache [--seconds 6 --rounds 3 --projects 300 --founders 20]

Targets: hit rate of the `project` family >= 0.90; cached/uncached throughput ratio >= 3.

Every request is authenticated as the project's owner and picks the project by a Zipf law
(s = 1.1: a few hot projects, a long tail), PATCHing a new price 5% of the time. wrk drives the
load: its Lua builds each request (headers, method, body), and on a two-core box a Python
driver would take the CPU the servers are measured on.

The cache starts warm (every project's detail cached once, as after some traffic) and its
counters at zero. The reference server keeps its keys and counters under its own prefix, so
the hit rate counts the cached server's lookups only (its writes do not bump the cached
server's generations either: that server may serve prices the reference changed, which no
figure here depends on). The counters are read once the cached server has stopped and every
worker has flushed its tally at exit; the staff endpoint would lag up to 2 s per worker.
"""

import json
import random
import tempfile
from pathlib import Path

import httpx

from bench.harness import (
    Gunicorn,
    Verdict,
    WrkResult,
    error_rate,
    fresh_stack,
    load_arguments,
    manage,
    median_p95,
    median_rps,
    print_results,
    report,
    report_script,
    shell_json,
    wrk,
)

DB_NAME = "mvpvalidator_bench_cache"
HIT_RATE_TARGET = 0.90
RATIO_TARGET = 3.0
FOUNDER_PASSWORD = "zipf-bench-founder-pass"  # noqa: S105 - a throwaway benchmark account
FOUNDER_EMAIL = "founder{:02d}@bench.mvpvalidator.dev"


# --- Data (runs inside `manage.py shell` with the bench environment) --------------------------


def seed(*, projects: int, founders: int, publish_every: int) -> None:
    """Create founders and their projects through the services, cache every project's detail
    once, zero the cache counters, and print the projects as JSON (`[[id, owner email], ...]`)."""
    from decimal import Decimal

    from mvpvalidator.cache import stats
    from projects.api.projects import project_detail_body
    from projects.selectors.projects import project_detail_json
    from projects.services.pages import landing_page_create, landing_page_publish
    from projects.services.projects import project_create
    from projects.services.prototypes import prototype_generate
    from security.services import user_create

    owners = [
        user_create(email=FOUNDER_EMAIL.format(i), password=FOUNDER_PASSWORD, name=f"Bench Founder {i}")
        for i in range(founders)
    ]
    created = []
    for n in range(projects):
        owner = owners[n % founders]
        project = project_create(
            owner=owner,
            name=f"Bench idea {n}",
            idea_description=f"Idea number {n}: a tool that saves small teams an hour a week on chores.",
            target_audience="Small teams",
            price_point=Decimal("19.00"),
            business_model="saas",
        )
        prototype_generate(project=project)
        if n % publish_every == 0:
            page = landing_page_create(project=project, slug=f"bench-idea-{n}")
            landing_page_publish(page=page)
        created.append((project, owner))
    for project, owner in created:
        project_detail_json(user=owner, pk=project.pk, render=project_detail_body)
    stats.reset()
    print(json.dumps([[project.pk, owner.email] for project, owner in created]))


def query_counts(*, project_id: int) -> None:
    """Print the queries one GET of the project's detail costs, cached (the entry warm) and
    with query caching off, as the owner with a real JWT, through the whole middleware."""
    from django.db import connection
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext
    from rest_framework_simplejwt.tokens import AccessToken

    from projects.models import Project

    project = Project.objects.select_related("owner").get(pk=project_id)
    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(project.owner)}")
    url = f"/api/projects/{project_id}/"
    counts = {}
    for name, enabled in (("cached", True), ("uncached", False)):
        with override_settings(ENABLE_QUERY_CACHE=enabled):
            assert client.get(url).status_code == 200  # warms the entry (and the identity cache)
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
        counts[name] = len(queries.captured_queries)
    print(json.dumps(counts))


# --- Workload ---------------------------------------------------------------------------------


def zipf_cumulative(n: int, s: float) -> list[float]:
    """Cumulative probabilities of ranks 1..n under a Zipf law with exponent `s`."""
    weights = [1 / k**s for k in range(1, n + 1)]
    total, running, cumulative = sum(weights), 0.0, []
    for w in weights:
        running += w
        cumulative.append(running / total)
    cumulative[-1] = 1.0
    return cumulative


def _lua_list(values: list[str] | list[float]) -> str:
    return "{" + ",".join(json.dumps(v) for v in values) + "}"


def workload_script(*, paths: list[str], tokens: list[str], s: float, write_share: float) -> str:
    """wrk Lua: each request picks a rank by the Zipf law (`paths` and `tokens` are in rank
    order) and sends a GET, or with probability `write_share` a PATCH of the price."""
    return f"""
local paths = {_lua_list(paths)}
local auth = {_lua_list([f"Bearer {t}" for t in tokens])}
local cumulative = {_lua_list(zipf_cumulative(len(paths), s))}
local write_share = {write_share}

local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

init = function(args)
  math.randomseed(7919 * (thread_id or 1))
end

local function pick()
  local r, lo, hi = math.random(), 1, #cumulative
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if cumulative[mid] < r then lo = mid + 1 else hi = mid end
  end
  return lo
end

request = function()
  local i = pick()
  if math.random() < write_share then
    local body = string.format('{{"price_point": "%d.%02d"}}', math.random(5, 199), math.random(0, 99))
    return wrk.format("PATCH", paths[i], {{["Authorization"] = auth[i], ["Content-Type"] = "application/json"}}, body)
  end
  return wrk.format("GET", paths[i], {{["Authorization"] = auth[i]}})
end
""" + report_script()


def tokens_by_email(base: str, emails: set[str]) -> dict[str, str]:
    tokens = {}
    with httpx.Client(base_url=base, timeout=30) as client:
        for email in sorted(emails):
            response = client.post("/api/auth/token", json={"email": email, "password": FOUNDER_PASSWORD})
            response.raise_for_status()
            tokens[email] = response.json()["access"]
    return tokens


def project_family_stats(env: dict[str, str]) -> dict[str, int | float | None]:
    report = json.loads(manage(env, "cache_stats", "--json"))
    return report["stats"]["families"].get("project", {})


def _verdict(value: float | None, target: float) -> str:
    met = value is not None and value >= target
    return f"(target >= {target}{'' if met else ': NOT MET'})"


# --- Run --------------------------------------------------------------------------------------


def main() -> int:
    parser = load_arguments(__doc__, seconds=6)
    parser.add_argument("--projects", type=int, default=300)
    parser.add_argument("--founders", type=int, default=20)
    parser.add_argument("--zipf", type=float, default=1.1, help="Zipf exponent s")
    parser.add_argument("--writes", type=float, default=0.05, help="share of requests that PATCH")
    args = parser.parse_args()

    env = fresh_stack(DB_NAME)
    # Same database and secret (tokens work on both); its own prefix keeps its counters apart.
    reference_env = {**env, "ENABLE_QUERY_CACHE": "false", "CACHE_KEY_PREFIX": f"{env['CACHE_KEY_PREFIX']}-ref"}
    print(f"seeding {args.projects} projects for {args.founders} founders ...", flush=True)
    code = f"from bench.cache import seed; seed(projects={args.projects}, founders={args.founders}, publish_every=3)"
    projects = shell_json(env, code)

    ranked = projects[:]
    random.Random(1).shuffle(ranked)  # hot projects spread over the founders
    results: dict[str, list[WrkResult]] = {"cached": [], "uncached": []}
    with tempfile.TemporaryDirectory() as tmp, Gunicorn(reference_env, workers=args.workers) as reference:
        tokens = tokens_by_email(reference.base, {email for _, email in projects})
        script = Path(tmp) / "zipf.lua"
        script.write_text(
            workload_script(
                paths=[f"/api/projects/{pk}/" for pk, _ in ranked],
                tokens=[tokens[email] for _, email in ranked],
                s=args.zipf,
                write_share=args.writes,
            )
        )
        load = {"connections": args.connections, "script": script}
        with Gunicorn(env, workers=args.workers) as cached:
            wrk(f"{cached.base}/api/monitoring/live", seconds=1)  # warm the workers, no cache lookups
            wrk(reference.base, seconds=2, **load)
            for _ in range(args.rounds):
                results["cached"].append(wrk(cached.base, seconds=args.seconds, **load))
                results["uncached"].append(wrk(reference.base, seconds=args.seconds, **load))
    project = project_family_stats(env)

    cached_rps, uncached_rps = median_rps(results["cached"]), median_rps(results["uncached"])
    ratio = cached_rps / uncached_rps
    hit_rate = project.get("hit_rate")
    lookups = sum(int(project.get(e) or 0) for e in ("hit", "local_hit", "stale", "miss"))
    requests = sum(r.requests for r in results["cached"])
    print_results(results, decimals=1)
    print(
        f"\nproject family: {lookups} lookups for {requests} requests "
        f"(hit {project.get('hit', 0)}, local hit {project.get('local_hit', 0)}, "
        f"stale {project.get('stale', 0)}, miss {project.get('miss', 0)})"
    )
    print(f"hit rate: {'-' if hit_rate is None else f'{hit_rate:.3f}'} {_verdict(hit_rate, HIT_RATE_TARGET)}")
    code = f"from bench.cache import query_counts; query_counts(project_id={ranked[0][0]})"
    queries = shell_json(env, code)
    print(f"queries per GET of a detail: cached {queries['cached']}, uncached {queries['uncached']}")
    verdict = Verdict(
        "project detail (API), cached", "query caching off", ratio, ">=", RATIO_TARGET,
        p95_ms=median_p95(results["cached"]), error_rate=error_rate(results["cached"]),
        note=f"hit rate {hit_rate:.3f}; queries per GET {queries['cached']} vs {queries['uncached']}"
        if hit_rate is not None else "no lookups counted",
    )  # fmt: skip
    hit_ok = hit_rate is not None and hit_rate >= HIT_RATE_TARGET
    return report(verdict, checks_ok=hit_ok and queries["cached"] < queries["uncached"])


if __name__ == "__main__":
    raise SystemExit(main())

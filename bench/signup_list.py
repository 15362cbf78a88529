"""The founder's signup list, deep: GET /api/projects/<id>/signups?pagination=cursor on a page
~2,000 pages in (keyset cursor) as a time ratio to the first page, through gunicorn on
PostgreSQL + Redis in the same run; the same depth by limit/offset is measured for the record.

    make bench-signup-list        # or: .venv/bin/python -m bench.signup_list [--signups 100000]

Target: deep/first time per request (first-page req/s over deep-page req/s at the same
concurrency) <= 1.5, with the KPIs (p95 < 200 ms, errors < 1%) on the deep page.

One project holds `--signups` signups (bulk-loaded, one a second going back in time, then
ANALYZE as autovacuum would), pages of 50, the deep page `--depth` rows in. Every request is
the owner's, with a JWT. A keyset page is one range read of the (project, -created_at, -id)
index from the cursor on; an offset page reads and discards every row before it, so its cost
grows with the depth (the reason the keyset form exists).
"""

import json
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from bench.harness import (
    PG_ADMIN_URL,
    Gunicorn,
    WrkResult,
    fresh_stack,
    load_arguments,
    load_verdict,
    median_rps,
    print_results,
    report,
    report_script,
    shell_json,
    wrk,
)

DB_NAME = "mvpvalidator_bench_signup_list"
TARGET = 1.5
LIMIT = 50
EMAIL = "deep-pages@bench.mvpvalidator.dev"
PASSWORD = "deep-pages-bench-pass"  # noqa: S105 - a throwaway benchmark account


def seed(*, signups: int, depth: int) -> None:
    """One founder, one published page, `signups` signups; print the project and the cursor
    of the row just above `depth` (the deep page starts there)."""
    from decimal import Decimal

    from django.db import connection

    from mvpvalidator.pagination import encode_cursor
    from projects.models.signups import Signup
    from projects.services.pages import landing_page_create, landing_page_publish
    from projects.services.projects import project_create
    from projects.services.prototypes import prototype_generate
    from security.services import user_create

    owner = user_create(email=EMAIL, password=PASSWORD, name="Deep Pages")
    project = project_create(
        owner=owner,
        name="Deep pages",
        idea_description="A list long enough that its last pages are far from its first.",
        target_audience="Founders",
        price_point=Decimal("9.00"),
        business_model="saas",
    )
    prototype_generate(project=project)
    page = landing_page_publish(page=landing_page_create(project=project, slug="deep-pages"))
    batch = 10_000
    for start in range(0, signups, batch):
        Signup.objects.bulk_create(
            Signup(landing_page=page, project=project, email=f"v{n}@bench.mvpvalidator.dev", name=f"Visitor {n}")
            for n in range(start, min(start + batch, signups))
        )
    with connection.cursor() as cursor:
        # One a second back in time, newest last: the order the list pages through.
        cursor.execute(
            "UPDATE projects_signup SET created_at = now() - (%s - id) * interval '1 second' WHERE project_id = %s",
            [signups, project.pk],
        )
    above = Signup.objects.filter(project=project).order_by("-created_at", "-id")[depth - 1]
    print(json.dumps({"project": project.pk, "cursor": encode_cursor(above.created_at, above.pk)}))


def authed_script(token: str) -> str:
    return f'wrk.headers["Authorization"] = "Bearer {token}"\n' + report_script()


def main() -> int:
    parser = load_arguments(__doc__)
    parser.add_argument("--signups", type=int, default=100_000)
    parser.add_argument("--depth", type=int, default=99_000, help="rows before the deep page")
    args = parser.parse_args()
    if not 0 < args.depth < args.signups:
        parser.error("--depth must be between 0 and --signups")

    env = fresh_stack(DB_NAME)
    print(f"seeding {args.signups:,} signups ...", flush=True)
    code = f"from bench.signup_list import seed; seed(signups={args.signups}, depth={args.depth})"
    seeded = shell_json(env, code)
    subprocess.run(["psql", f"{PG_ADMIN_URL}/{DB_NAME}", "-qc", "ANALYZE"], check=True, capture_output=True)

    base = f"/api/projects/{seeded['project']}/signups?limit={LIMIT}"
    paths = {
        "first page": f"{base}&pagination=cursor",
        "deep page": f"{base}&pagination=cursor&cursor={seeded['cursor']}",
        "deep offset": f"{base}&offset={args.depth}",
    }
    results: dict[str, list[WrkResult]] = {name: [] for name in paths}
    with tempfile.TemporaryDirectory() as tmp, Gunicorn(env, workers=args.workers) as server:
        response = httpx.post(f"{server.base}/api/auth/token", json={"email": EMAIL, "password": PASSWORD})
        response.raise_for_status()
        script = Path(tmp) / "authed.lua"
        script.write_text(authed_script(response.json()["access"]))
        # The deep pages must be the rows after `depth`: check once, outside the timing.
        headers = {"Authorization": f"Bearer {response.json()['access']}"}
        deep = httpx.get(f"{server.base}{paths['deep page']}", headers=headers).json()["results"]
        offset = httpx.get(f"{server.base}{paths['deep offset']}", headers=headers).json()["results"]
        same_rows = [r["email"] for r in deep] == [r["email"] for r in offset] and len(deep) == LIMIT
        for i in range(args.rounds + 1):  # round 0 warms up, not measured
            for name, path in paths.items():
                result = wrk(
                    f"{server.base}{path}",
                    seconds=1 if i == 0 else args.seconds,
                    connections=args.connections,
                    script=script,
                )
                if i:
                    results[name].append(result)
                if name == "deep offset":
                    # Its requests still in flight when wrk stops take up to a second each to
                    # finish; the next run must not start behind them.
                    time.sleep(2)

    print_results(results, decimals=1)
    first, keyset, by_offset = (median_rps(results[name]) for name in paths)
    print(
        f"\ndeep page ({args.depth:,} rows in) returns the same {LIMIT} rows by cursor and by offset: "
        f"{'yes' if same_rows else 'NO'}; by offset it takes {first / by_offset:.1f}x the first page (reported)"
    )
    verdict = load_verdict(
        "signup list, deep keyset page", "first page", ratio=first / keyset, op="<=", target=TARGET,
        runs=results["deep page"], note=f"{args.depth:,} rows in of {args.signups:,}",
    )  # fmt: skip
    return report(verdict, checks_ok=same_rows)


if __name__ == "__main__":
    raise SystemExit(main())

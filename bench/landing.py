"""Landing page throughput: GET /p/<slug>/ through gunicorn on PostgreSQL + Redis, as a ratio
to a bare Django view served the same way in the same run.

    make bench-landing            # or: .venv/bin/python -m bench.landing [--seconds 5 --rounds 3]

Target (reached once the page is cached and tracked through Redis): ratio >= 0.5.
"""

import argparse

from bench.harness import Gunicorn, alternate, manage, median_p95, median_rps, recreate_database, stack_env

DB_NAME = "mvpvalidator_bench_landing"
TARGET = 0.5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    recreate_database(DB_NAME)
    env = stack_env(DB_NAME)
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "collectstatic", "--noinput", "-v", "0")
    manage(env, "seed_demo")

    with Gunicorn(env, workers=args.workers) as server:
        workloads = {"bare view": f"{server.base}/bench/bare", "landing page": f"{server.base}/p/invoice-chaser-demo/"}
        alternate(workloads, rounds=1, seconds=1, connections=args.connections)  # warm-up
        results = alternate(workloads, rounds=args.rounds, seconds=args.seconds, connections=args.connections)

    bare, page = median_rps(results["bare view"]), median_rps(results["landing page"])
    ratio = page / bare
    print(f"{'workload':<14} {'req/s':>9} {'p95 ms':>8} {'errors':>7}")
    for name, runs in results.items():
        errors = sum(r.errors for r in runs)
        print(f"{name:<14} {median_rps(runs):>9.1f} {median_p95(runs):>8.1f} {errors:>7}")
    print(f"landing/bare throughput ratio: {ratio:.2f} (target >= {TARGET})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

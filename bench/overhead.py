"""Platform middleware overhead: a trivial view through gunicorn with the project's MIDDLEWARE
as configured ("full"), without the security layer ("monitoring": `security.*` removed) and
without any of the platform's own middleware ("bare": `monitoring.*` and `security.*` removed,
see bench/settings.py), on PostgreSQL + Redis in the same run.

    make bench-overhead           # or: .venv/bin/python -m bench.overhead [--seconds 5 --rounds 6]

Targets, each a throughput ratio >= 0.90 (exit status 1 when one is missed): the security layer
alone (full/monitoring) and the monitoring alone (monitoring/bare). The whole stack (full/bare)
is the product of the two and is reported, not held to a target of its own.

The servers run side by side and are loaded in turn, the order rotated every round so drift on
the machine hits all alike. Each verdict is the median of the per-round ratios.
"""

import os
import statistics

from bench.harness import (
    Gunicorn,
    Verdict,
    WrkResult,
    error_rate,
    fresh_stack,
    load_arguments,
    manage,
    median_p95,
    print_results,
    report,
    wrk,
)

DB_NAME = "mvpvalidator_bench_overhead"
# Its own Redis database (and key prefix, from stack_env): the monitoring counters of this
# run never mix with another benchmark's.
REDIS_URL = os.environ.get("BENCH_OVERHEAD_REDIS_URL", "redis://127.0.0.1:6379/13")
TARGET = 0.90
PATH = "/bench/bare"
SERVERS = ("full", "monitoring", "bare")
LIST_PLATFORM_MIDDLEWARE = (
    "from django.conf import settings; from bench.settings import PLATFORM_MIDDLEWARE_PREFIXES as p; "
    "print(' '.join(m for m in settings.MIDDLEWARE if m.startswith(p)))"
)


def measure(bases: dict[str, str], *, rounds: int, seconds: int, connections: int) -> dict[str, list[WrkResult]]:
    results: dict[str, list[WrkResult]] = {name: [] for name in bases}
    for i in range(rounds):
        # Rotate the order every round so drift and warm-up do not favour one server.
        shift = i % len(SERVERS)
        for name in SERVERS[shift:] + SERVERS[:shift]:
            results[name].append(wrk(f"{bases[name]}{PATH}", seconds=seconds, connections=connections))
    return results


def main() -> int:
    parser = load_arguments(__doc__, rounds=6)
    args = parser.parse_args()

    base_env = fresh_stack(DB_NAME, ENABLE_PERFORMANCE_MONITORING="true", REDIS_URL=REDIS_URL)
    envs = {name: {**base_env, "BENCH_MIDDLEWARE": name} for name in SERVERS}
    # The last line: Django 5.2's shell first says what it imported.
    removed = manage(envs["full"], "shell", "-c", LIST_PLATFORM_MIDDLEWARE).splitlines()[-1].split()
    print(f"bare = MIDDLEWARE without: {', '.join(removed) or '(nothing: no platform middleware configured)'}")

    with (
        Gunicorn(envs["full"], workers=args.workers) as full,
        Gunicorn(envs["monitoring"], workers=args.workers) as monitoring,
        Gunicorn(envs["bare"], workers=args.workers) as bare,
    ):
        bases = {"full": full.base, "monitoring": monitoring.base, "bare": bare.base}
        measure(bases, rounds=1, seconds=1, connections=args.connections)  # warm-up
        results = measure(bases, rounds=args.rounds, seconds=args.seconds, connections=args.connections)

    print_results(results, column="per round")
    print()
    verdicts = []
    for label, top, bottom, target in (
        ("monitoring + security vs none", "full", "bare", None),
        ("security layer alone", "full", "monitoring", TARGET),
        ("monitoring alone", "monitoring", "bare", TARGET),
    ):
        per_round = [
            t.requests_per_second / b.requests_per_second for t, b in zip(results[top], results[bottom], strict=True)
        ]
        ratio = statistics.median(per_round)
        rounds = " ".join(f"{r:.3f}" for r in per_round)
        print(f"{label:<32} {top}/{bottom} = {ratio:.3f}  per round [{rounds}]")
        if target is not None:
            verdicts.append(
                Verdict(
                    f"middleware: {label}", f"{bottom} (trivial view)", ratio, ">=", target,
                    p95_ms=median_p95(results[top]), error_rate=error_rate(results[top]),
                )
            )  # fmt: skip
    errors = sum(r.errors for runs in results.values() for r in runs)
    if errors:
        print(f"{errors} failed requests: the figures are not trustworthy")
    return report(*verdicts, checks_ok=not errors)


if __name__ == "__main__":
    raise SystemExit(main())

"""Every benchmark in turn, then one table of their verdicts.

    make bench                    # or: .venv/bin/python -m bench [landing signups ...] [--quick]

Each benchmark runs as its own process (its own database, Redis prefix and gunicorn servers) and
prints its detail as it goes; each hands its verdicts (ratio against target, the p95 and error
rate of the workload at 8 connections against the production guide's KPIs) to this runner,
which prints them as a Markdown table, the form docs/BENCHMARKS.md keeps. The exit status is 1
when any target or KPI is missed or a benchmark's own checks (counts, query counts) failed.
"""

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

from bench.harness import KPI_ERROR_RATE, KPI_P95_MS, PYTHON, ROOT, SUMMARY_ENV, Verdict

BENCHMARKS = ("landing", "signups", "cache", "overhead", "signup_list", "dashboard", "results", "rollup")
# Shorter runs for a first look (noisier: the figures of record come from the full form).
QUICK = {
    "landing": ["--seconds", "2", "--rounds", "2"],
    "signups": ["--seconds", "2", "--rounds", "2"],
    "cache": ["--seconds", "3", "--rounds", "2"],
    "overhead": ["--seconds", "2", "--rounds", "3"],
    "signup_list": ["--seconds", "2", "--rounds", "2", "--signups", "30000", "--depth", "29000"],
    "dashboard": ["--rounds", "3", "--renders", "7"],
    "results": ["--rounds", "3", "--requests", "5", "--visitors", "100", "--cycles", "8"],
    "rollup": ["--events", "30000", "--pages", "32", "--days", "4", "--rounds", "1"],
}


def table(verdicts: list[Verdict]) -> str:
    lines = [
        f"| Workload | Compared with | Ratio | Target | p95 ms (< {KPI_P95_MS:.0f}) "
        f"| Errors (< {KPI_ERROR_RATE:.0%}) | Verdict |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for v in verdicts:
        p95 = "-" if v.p95_ms is None else f"{v.p95_ms:.1f}"
        errors = "-" if v.error_rate is None else f"{v.error_rate:.2%}"
        verdict = "met" if v.met else "**not met**"
        lines.append(
            f"| {v.workload} | {v.compared} | {v.ratio:.2f} | {v.op} {v.target} | {p95} | {errors} | {verdict} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"benchmarks to run, of {', '.join(BENCHMARKS)} (default: all)")
    parser.add_argument("--quick", action="store_true", help="shorter runs (noisier)")
    args = parser.parse_args()
    unknown = sorted(set(args.names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark: {', '.join(unknown)} (choose from {', '.join(BENCHMARKS)})")
    names = args.names or list(BENCHMARKS)

    verdicts: list[Verdict] = []
    failed_checks: list[str] = []
    began = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            summary = Path(tmp) / f"{name}.jsonl"
            extra = QUICK[name] if args.quick else []
            print(f"\n=== bench.{name} {' '.join(extra)}".rstrip(), flush=True)
            started = time.monotonic()
            code = subprocess.call(
                [PYTHON, "-m", f"bench.{name}", *extra], cwd=ROOT, env={**os.environ, SUMMARY_ENV: str(summary)}
            )
            found = (
                [Verdict(**json.loads(line)) for line in summary.read_text().splitlines()] if summary.exists() else []
            )
            verdicts.extend(found)
            if code and all(v.met for v in found):
                # Exited non-zero with every verdict met (or none reported): its own checks failed.
                failed_checks.append(f"bench.{name} (exit status {code})")
            print(f"=== bench.{name}: {time.monotonic() - started:.0f} s", flush=True)

    print(f"\n{table(verdicts)}\n")
    for v in verdicts:
        if v.note:
            print(f"- {v.workload}: {v.note}")
    if failed_checks:
        print(f"\nchecks failed in: {', '.join(failed_checks)} (see their output above)")
    print(f"\n(all benchmarks took {time.monotonic() - began:.0f} s)")
    return 0 if verdicts and all(v.met for v in verdicts) and not failed_checks else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""`make bench` / `make bench-quick`: every benchmark of issue 6 in turn, then all GOAL lines together.

    .venv/bin/python -m bench.run [--quick]

Quick (under 5 minutes): the API benchmark on SQLite (1 round, 3 s per case) and the scheduler
benchmark (1,000 and 10,000 fires, few sync samples). Full (about 25 minutes): the API benchmark
on SQLite (3 A/B rounds, 15 s per case) and the full scheduler benchmark; `--postgres` adds the
API benchmark on PostgreSQL (another 20 minutes); `--shadow` adds the shadow-read benchmark
(bench.api.shadow: about 8 minutes, quick under 3). Each part prints its own tables; this collects
their `GOAL` lines, naming the database where there are two.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from src.config import PROJECT_ROOT

GOAL_PREFIX = "GOAL "


def parts(quick: bool, postgres: bool, shadow: bool = False) -> list[tuple[str, list[str]]]:
    """(label, module arguments) of each benchmark to run, in order."""
    speed = ["--quick"] if quick else []
    api = [("api-sqlite", ["bench.api.run", "--database", "sqlite", *speed])]
    if postgres:
        api.append(("api-postgres", ["bench.api.run", "--database", "postgres", *speed]))
    if shadow:
        api.append(("shadow", ["bench.api.shadow", *speed]))
    return [*api, ("scheduler", ["bench.scheduler.run", *speed])]


def run_part(label: str, module_args: list[str]) -> tuple[int, list[str]]:
    """Run one benchmark, echoing its output; returns its exit code and its GOAL lines."""
    print(f"\n=== {label}: python -m {' '.join(module_args)}", flush=True)
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", *module_args], cwd=PROJECT_ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    goals = []
    for line in process.stdout:
        sys.stdout.write(line)
        sys.stdout.flush()
        if line.startswith(GOAL_PREFIX):
            goals.append(line.rstrip("\n"))
    code = process.wait()
    print(f"=== {label}: exit {code} after {time.monotonic() - started:.0f} s", flush=True)
    return code, goals


def labelled(goal_line: str, label: str) -> str:
    """`GOAL x: ...` from the PostgreSQL API run becomes `GOAL postgres x: ...`; others stay as they are."""
    if label == "api-postgres":
        return GOAL_PREFIX + "postgres " + goal_line[len(GOAL_PREFIX):]
    return goal_line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the under-5-minute run")
    parser.add_argument("--postgres", action="store_true", help="also the API benchmark on PostgreSQL")
    parser.add_argument("--shadow", action="store_true", help="also the shadow-read benchmark (mirror on/off p99)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    failures, goal_lines = [], []
    for label, module_args in parts(args.quick, args.postgres, args.shadow):
        code, goals = run_part(label, module_args)
        if code != 0 and not goals:
            failures.append(f"{label} exited {code} without results")
        goal_lines.extend(labelled(goal, label) for goal in goals)
    print(f"\n=== goals ({'quick' if args.quick else 'full'} run, {time.monotonic() - started:.0f} s)")
    for failure in failures:
        print(f"FAILED {failure}")
    for goal in goal_lines:
        print(goal)
    # Missed goals are findings, not failures; a benchmark that could not run is.
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

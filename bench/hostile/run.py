"""Hostile probes against the stack as deployed (issue 15): cases tried and failures per class.

    .venv/bin/python -m bench.hostile.run [--postgres] [--postgres-url URL] [--classes 1,2,...]

nginx and both doors start on free loopback ports (`python -m src.cli serve`) over a fresh SQLite
file, or with --postgres a recreated PostgreSQL database (default bench_hostile at 127.0.0.1:5432).
Each class runs a bounded set of cases; the exit status is 1 when any case failed.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.hostile import connections, dates, json_bodies, races, throttle, tokens  # noqa: E402  # after the sys.path line above
from bench.hostile.report import ClassReport, print_reports  # noqa: E402  # after the sys.path line above
from bench.hostile.stack import HostileStack, start_stack  # noqa: E402  # after the sys.path line above
from bench.seed import recreate_database  # noqa: E402  # after the sys.path line above

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_hostile"
PROBES: dict[int, Callable[[HostileStack], ClassReport]] = {
    1: json_bodies.probe,
    2: connections.probe_errors_then_others,
    3: throttle.probe_spoofed_forwarding,
    4: throttle.probe_throttle_policy,
    5: races.probe,
    6: connections.probe_slow_runs,
    7: tokens.probe_token_hygiene,
    8: tokens.probe_pruning,
    9: dates.probe,
}
# Class 7 may demote the admin when its fix is missing: it runs after the others.
RUN_ORDER = [1, 2, 3, 4, 5, 6, 8, 9, 7]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true", help="run on PostgreSQL instead of SQLite")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL, help="database to recreate for --postgres")
    parser.add_argument("--classes", default=",".join(map(str, sorted(PROBES))), help="e.g. 2,3,5,6")
    args = parser.parse_args(argv)
    chosen = {int(part) for part in args.classes.split(",") if part.strip()}
    logging.disable(logging.INFO)

    with tempfile.TemporaryDirectory(prefix="hostile-") as folder:
        if args.postgres:
            database_url = args.postgres_url
            recreate_database(database_url)
        else:
            database_url = f"sqlite:///{Path(folder) / 'hostile.db'}"
        print(f"database: {'PostgreSQL' if args.postgres else 'SQLite'}; classes {sorted(chosen)}")
        stack = start_stack(Path(folder), database_url)
        reports: list[ClassReport] = []
        try:
            for number in [n for n in RUN_ORDER if n in chosen]:
                started = time.monotonic()
                try:
                    stack.renew_tokens()
                    report = PROBES[number](stack)
                except Exception as exc:  # a probe that crashes is a failure of its class, not of the run
                    report = ClassReport(number, PROBES[number].__module__.rsplit(".", 1)[1])
                    report.check(False, f"probe crashed: {type(exc).__name__}: {exc}")
                report.figures.append(f"{time.monotonic() - started:.1f} s")
                reports.append(report)
                print(f"class {number}: tried {report.tried}, failures {len(report.failures)}", flush=True)
        finally:
            stack.stop()
        print()
        print_reports(reports)
    return 1 if any(report.failures for report in reports) else 0


if __name__ == "__main__":
    sys.exit(main())

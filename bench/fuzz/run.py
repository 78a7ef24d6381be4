"""Longer schemathesis run on both doors, as admin and as viewer; prints cases tried and failures.

    .venv/bin/python -m bench.fuzz.run [--examples 50] [--seed N] [--doors fastapi,flask]

A fresh migrated SQLite file per run (in a temporary folder); exits 1 when any check failed.
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from src.database.engines import create_sync_engine_from_settings, make_session_factory  # noqa: E402  # after the sys.path line above
from src.database.migrate import upgrade_to_head  # noqa: E402  # after the sys.path line above
from tests.conftest import Factory, make_settings  # noqa: E402  # after the sys.path line above
from tests.hardening.fuzzing import fuzz, v2_document  # noqa: E402  # after the sys.path line above


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=50, help="cases per operation and mode")
    parser.add_argument("--seed", type=int, default=random.randrange(1 << 30))
    parser.add_argument("--doors", default="fastapi,flask")
    parser.add_argument("--roles", default="admin,viewer")
    args = parser.parse_args()
    logging.disable(logging.INFO)  # one line per request would drown the figures

    total_tried, total_failures = 0, 0
    print(f"seed {args.seed}, {args.examples} examples per operation and mode")
    with tempfile.TemporaryDirectory(prefix="fuzz-") as folder:
        for door in args.doors.split(","):
            for role in args.roles.split(","):
                settings = make_settings(f"sqlite:///{Path(folder) / f'{door}-{role}.db'}")
                upgrade_to_head(settings)
                engine = create_sync_engine_from_settings(settings)
                with make_session_factory(engine)() as session:
                    factory = Factory(session, settings)
                    caller = factory.user(role)
                    factory.team("Team A", slug="team-a")
                    started = time.monotonic()
                    report = fuzz(
                        door,
                        settings,
                        v2_document(settings),
                        lambda factory=factory, caller=caller: factory.token(caller),
                        max_examples=args.examples,
                        seed=args.seed,
                    )
                engine.dispose()
                total_tried += report.tried
                total_failures += len(report.failures)
                print(f"{door:8} {role:7} cases tried {report.tried:6}  operations {len(report.per_operation):3}  "
                      f"failures {len(report.failures):3}  {time.monotonic() - started:6.1f} s")
                for failure in report.failures:
                    print(f"  FAIL {failure.operation} [{failure.mode}] {failure.problem}")
    print(f"total: cases tried {total_tried}, failures {total_failures}")
    return 1 if total_failures else 0


if __name__ == "__main__":
    sys.exit(main())

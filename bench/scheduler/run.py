"""Scheduler benchmark (issue 6): 1,000 then 10,000 simultaneous fires, then sync latency.

    .venv/bin/python -m bench.scheduler.run [--quick] [--database-url URL]

The scheduler runs as production runs it: `start_scheduler_host` (lease, heartbeat, sync loop,
APScheduler with crontab triggers, the real executor and HTTP client) on a uvloop event loop
like uvicorn's, in this process so the benchmark can see its APScheduler jobs. The FastAPI door
runs as a separate uvicorn process without a scheduler; webhooks go to a loopback receiver
process. The database is fresh: a temporary SQLite file by default, or `bench_scheduler` on the
PostgreSQL server a `postgresql://` URL names. Prints tables and GOAL lines; raw figures go to
bench/results/scheduler-<backend>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.goals import print_goals
from bench.scheduler import database, fires, processes, report, sync_latency
from src.config import Settings
from src.scheduler.host import SchedulerHost, start_scheduler_host, stop_scheduler_host
from src.scheduler.services import close_execution_services, open_execution_services

# Seconds between a set's insert and its fire: enough for the sync loop (1 s) to pick the set up
# and build its triggers on a loaded 2-core machine.
LEAD_SECONDS = {1_000: 6.0, 10_000: 25.0}
SYNC_SAMPLES = {"quick": 5, "full": 30}
SECRETS = {"SECRET_KEY": "scheduler-bench-secret-key-0123456789",
           "JWT_SECRET_KEY": "scheduler-bench-jwt-secret-0123456789"}


def bench_settings(database_url: str, scheduler_host: str) -> dict[str, str]:
    """Production defaults for the scheduler, plus loopback targets allowed and no mail."""
    return {"DATABASE_URL": database_url, "FLASK_ENV": "development", "ALLOW_PRIVATE_TARGETS": "true",
            "MAIL_ENABLED": "false", "SCHEDULER_HOST": scheduler_host, **SECRETS}


async def _leader(database_url: str) -> SchedulerHost:
    settings = Settings(_env_file=None, **bench_settings(database_url, "fastapi"))  # type: ignore[call-arg]  # pydantic-settings' _env_file is no declared field
    host = await start_scheduler_host(await open_execution_services(settings), "fastapi")
    await asyncio.wait_for(host.became_leader.wait(), timeout=60)
    return host


async def measure(database_url: str, admin_id: str, receiver: str, api: str, quick: bool) -> dict[str, Any]:
    engine = database.create_sync_engine_from_settings(
        Settings(_env_file=None, **bench_settings(database_url, "none")))  # type: ignore[call-arg]  # pydantic-settings' _env_file is no declared field
    host = await _leader(database_url)
    wanted = SYNC_SAMPLES["quick" if quick else "full"]
    try:
        print("fires:", flush=True)
        small = await fires.schedule(host, engine, admin_id, receiver, "fire1k", 1_000, LEAD_SECONDS[1_000])
        small_result = await small.measure()
        large = await fires.schedule(host, engine, admin_id, receiver, "fire10k", 10_000, LEAD_SECONDS[10_000])
        # While the 10k set waits for its minute, edit jobs of the 1k set (already fired): the
        # scheduler then holds 11,000 schedules. The rest of the samples follow the 10k fire.
        deadline = time.monotonic() + large.seconds_left() - 3
        samples = await sync_latency.measure(api, host, small.job_set.ids, wanted, deadline=deadline)
        large_result = await large.measure()
        samples += await sync_latency.measure(api, host, small.job_set.ids, wanted - len(samples),
                                              first=len(samples))
        return {"fires": {r.label: r for r in (small_result, large_result)}, "sync": samples,
                "jobs_scheduled": host.runtime.scheduled_jobs_count(), "missed_fires": host.runtime.missed_fires}
    finally:
        services = host.services
        await stop_scheduler_host(host)
        await close_execution_services(services)
        engine.dispose()


def _run(coroutine: Coroutine[Any, Any, dict[str, Any]]) -> dict[str, Any]:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coroutine)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{SYNC_SAMPLES['quick']} sync samples instead of "
                                                             f"{SYNC_SAMPLES['full']}")
    parser.add_argument("--database-url", default=None,
                        help="a postgresql:// URL (its server gets a fresh bench_scheduler database); "
                             "default: a temporary SQLite file")
    args = parser.parse_args()
    started = time.monotonic()
    folder = Path(tempfile.mkdtemp(prefix="scheduler-bench-"))
    database_url = database.fresh_database(args.database_url, folder)
    backend = database.backend_name(database_url)
    logging.basicConfig(filename=folder / "scheduler.log", level=logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    load_before = os.getloadavg()
    print(f"scheduler benchmark on {backend} ({'quick' if args.quick else 'full'}), "
          f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, python {platform.python_version()}, {os.cpu_count()} cores, "
          f"load average {load_before[0]:.2f}", flush=True)
    running: list[Any] = []
    try:
        settings = Settings(_env_file=None, **bench_settings(database_url, "none"))  # type: ignore[call-arg]  # pydantic-settings' _env_file is no declared field
        engine, admin_id = database.prepare(settings)
        engine.dispose()
        receiver, receiver_process = processes.start_receiver(folder)
        running.append(receiver_process)
        api, api_process = processes.start_api(bench_settings(database_url, "none"), folder)
        running.append(api_process)
        results = _run(measure(database_url, admin_id, receiver, api, args.quick))
    finally:
        for process in running:
            processes.stop(process)
        database.drop_database(database_url)
    log = (folder / "scheduler.log").read_text() if (folder / "scheduler.log").exists() else ""
    shutil.rmtree(folder, ignore_errors=True)

    measured = list(results["fires"].values())
    print()
    print(report.fires_table(measured))
    print(report.sync_table(results["sync"], results["jobs_scheduled"]))
    warnings = log.count("\n")
    print(f"scheduler log: {warnings} warning/error lines; APScheduler missed fires: {results['missed_fires']}; "
          f"load average {load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after (other processes share the cores)")
    path = report.write_json(backend, {
        "backend": backend, "quick": args.quick, "finished_at": datetime.now(UTC).isoformat(),
        "python": platform.python_version(), "seconds": time.monotonic() - started,
        "cores": os.cpu_count(), "load_average": {"before": load_before, "after": os.getloadavg()},
        "fires": [f.as_dict() for f in measured],
        "sync": {"summary": report.sync_summary(results["sync"]), "jobs_scheduled": results["jobs_scheduled"],
                 "samples": [s.as_dict() for s in results["sync"]]},
        "scheduler_log_tail": log.splitlines()[-50:],
    })
    print(f"raw results: {path.relative_to(processes.ROOT)}; {time.monotonic() - started:.0f} s in all")
    print()
    print_goals(report.goals(results["fires"], results["sync"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""One simultaneous fire: N jobs whose cron names the same minute, dispatched by the real scheduler.

The jobs are inserted into the database while the scheduler host runs; it learns of them by its
own incremental sync, builds their crontab triggers and fires them at the shared minute. The
receiver's arrival times give the lag from the fire time; the executions table must then hold
one `scheduled` row per job for that fire.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

import httpx
from sqlalchemy import Engine

from bench.scheduler import database
from bench.scheduler.database import ExecutionCheck, JobSet
from bench.scheduler.receiver import CONTROL_PATH
from src.scheduler.host import SchedulerHost

# The scheduler must hold every trigger before the fire; if it did not, the run is reported
# as such rather than measured. A fire is considered over when no run is in flight any more.
DRAIN_TIMEOUT_SECONDS = 300.0


def next_minute(at_least: float) -> datetime:
    """The first whole minute (UTC, aware) at least `at_least` seconds from now."""
    moment = datetime.now(UTC) + timedelta(seconds=at_least)
    start = moment.replace(second=0, microsecond=0)
    return start if start >= moment else start + timedelta(minutes=1)


def cron_at(fire_time: datetime, tz: tzinfo) -> str:
    """A crontab firing at `fire_time` only (minute, hour, day and month in the scheduler timezone)."""
    local = fire_time.astimezone(tz)
    return f"{local.minute} {local.hour} {local.day} {local.month} *"


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


@dataclass
class FireResult:
    label: str
    jobs: int
    fire_time: str
    scheduled_after_seconds: float  # from the insert to the scheduler holding every trigger
    ready_before_fire_seconds: float  # margin left before the fire time
    dispatched: int  # distinct jobs that reached the receiver
    arrivals: int
    duplicates: int
    missing: int
    lag_p50: float
    lag_p99: float
    lag_max: float
    all_done_after_seconds: float  # fire time → last run finalized (rows, notifications)
    cpu_ms_per_fire: float  # the scheduler's event-loop thread, from just before the fire to drained
    missed_fires: int  # APScheduler's misfire count during this fire
    executions: ExecutionCheck

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def _wait_scheduled(host: SchedulerHost, job_set: JobSet, fire_time: datetime, deadline: float) -> bool:
    """Poll until every job of the set is scheduled for `fire_time`; False at the deadline."""
    scheduler = host.runtime.scheduler
    while time.monotonic() < deadline:
        scheduler = host.runtime.scheduler
        if scheduler is not None:
            jobs = (scheduler.get_job(job_id) for job_id in job_set.ids)
            if all(job is not None and job.next_run_time == fire_time for job in jobs):
                return True
        await asyncio.sleep(0.5)
    return False


def _in_flight(host: SchedulerHost) -> int:
    scheduler = host.runtime.scheduler
    if scheduler is None:
        return 0
    return len(getattr(scheduler._lookup_executor("default"), "in_flight", ()))  # noqa: SLF001 - bench probe


def _still_due(host: SchedulerHost, job_set: JobSet, fire_time: datetime) -> bool:
    scheduler = host.runtime.scheduler
    if scheduler is None:
        return False
    return any((job := scheduler.get_job(job_id)) is not None and job.next_run_time == fire_time
               for job_id in job_set.ids)


async def _wait_drained(host: SchedulerHost, job_set: JobSet, fire_time: datetime) -> float:
    """Seconds from the fire time until APScheduler has handed every fire over and no run is in flight."""
    deadline = time.monotonic() + DRAIN_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        now = datetime.now(UTC)
        if now >= fire_time + timedelta(seconds=1) and _in_flight(host) == 0 \
                and not _still_due(host, job_set, fire_time):
            return (now - fire_time).total_seconds()
        await asyncio.sleep(0.05)
    return float("nan")


async def fetch_arrivals(receiver_base: str) -> list[tuple[str, float]]:
    async with httpx.AsyncClient(timeout=60) as client:
        response = await client.get(receiver_base + CONTROL_PATH)
    return [(path, at) for path, at in response.json()["arrivals"]]


def _lags(job_set: JobSet, arrivals: list[tuple[str, float]], fire_time: datetime) -> tuple[list[float], Counter[str]]:
    prefix = f"/{job_set.label}/"
    fired_at = fire_time.timestamp()
    mine = [(path, at) for path, at in arrivals if path.startswith(prefix)]
    return [at - fired_at for _, at in mine], Counter(path for path, _ in mine)


@dataclass
class PendingFire:
    """A job set the scheduler holds, due at `fire_time`; `measure()` waits for it and counts."""

    host: SchedulerHost
    engine: Engine
    receiver_base: str
    job_set: JobSet
    fire_time: datetime
    scheduled_after: float

    def seconds_left(self) -> float:
        return (self.fire_time - datetime.now(UTC)).total_seconds()

    async def measure(self) -> FireResult:
        host, job_set, fire_time = self.host, self.job_set, self.fire_time
        margin = self.seconds_left()
        missed_before = host.runtime.missed_fires
        cpu_before = time.thread_time()
        done_after = await _wait_drained(host, job_set, fire_time)
        cpu_ms = (time.thread_time() - cpu_before) * 1000 / len(job_set.ids)
        lags, per_path = _lags(job_set, await fetch_arrivals(self.receiver_base), fire_time)
        expected = {job_set.path(job_id) for job_id in job_set.ids}
        return FireResult(
            label=job_set.label, jobs=len(job_set.ids), fire_time=fire_time.isoformat(),
            scheduled_after_seconds=self.scheduled_after, ready_before_fire_seconds=margin,
            dispatched=len(expected & per_path.keys()), arrivals=len(lags),
            duplicates=sum(n - 1 for n in per_path.values() if n > 1),
            missing=len(expected - per_path.keys()),
            lag_p50=percentile(lags, 0.50), lag_p99=percentile(lags, 0.99),
            lag_max=max(lags, default=float("nan")),
            all_done_after_seconds=done_after, cpu_ms_per_fire=cpu_ms,
            missed_fires=host.runtime.missed_fires - missed_before,
            executions=database.check_executions(self.engine, job_set, fire_time.replace(tzinfo=None)),
        )


async def schedule(
    host: SchedulerHost, engine: Engine, admin_id: str, receiver_base: str,
    label: str, count: int, lead_seconds: float,
) -> PendingFire:
    """Insert `count` jobs due at the next minute at least `lead_seconds` away; wait until scheduled."""
    fire_time = next_minute(lead_seconds)
    cron = cron_at(fire_time, host.services.settings.scheduler_tz)
    inserted = time.monotonic()
    job_set = database.insert_jobs(engine, admin_id, label, count, cron, receiver_base)
    ready = await _wait_scheduled(host, job_set, fire_time, deadline=inserted + lead_seconds + 120)
    pending = PendingFire(host, engine, receiver_base, job_set, fire_time,
                          time.monotonic() - inserted if ready else float("nan"))
    print(f"  {label}: {count} jobs inserted and scheduled in {pending.scheduled_after:.1f} s; "
          f"all fire at {fire_time:%H:%M:%S} UTC, in {pending.seconds_left():.1f} s", flush=True)
    return pending

"""Sync latency: a cron edit through the real HTTP API until the running scheduler holds it.

Each sample PUTs a new `cron_expression` for one job to the FastAPI door (a separate uvicorn
process, like production) and polls the scheduler host's APScheduler job until its next run
time is the `next_execution_at` the API answered. The host learns of the edit only through its
sync loop (`SchedulerRuntime.sync_changes` every SCHEDULER_SYNC_SECONDS), so samples start at
random moments of that loop's period.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import asdict, dataclass
from typing import Any

import httpx

from bench.scheduler.database import ADMIN_PASSWORD, ADMIN_USERNAME
from src.scheduler.host import SchedulerHost

SAMPLE_TIMEOUT_SECONDS = 30.0


@dataclass
class SyncSample:
    job_id: str
    cron: str
    put_seconds: float  # the PUT's round trip
    held_after_seconds: float  # PUT sent → the scheduler holds the new next run time

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def login(client: httpx.AsyncClient) -> str:
    response = await client.post("/auth/login", json={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD})
    response.raise_for_status()
    return str(response.json()["access_token"])


def _held(host: SchedulerHost, job_id: str, expected: str) -> bool:
    scheduler = host.runtime.scheduler
    job = scheduler.get_job(job_id) if scheduler is not None else None
    return job is not None and job.next_run_time is not None and job.next_run_time.isoformat() == expected


async def one_sample(client: httpx.AsyncClient, host: SchedulerHost, job_id: str, cron: str) -> SyncSample:
    sent = time.perf_counter()
    response = await client.put(f"/jobs/{job_id}", json={"cron_expression": cron})
    answered = time.perf_counter()
    response.raise_for_status()
    expected = response.json()["job"]["next_execution_at"]
    while not _held(host, job_id, expected):
        if time.perf_counter() - sent > SAMPLE_TIMEOUT_SECONDS:
            return SyncSample(job_id, cron, answered - sent, float("nan"))
        await asyncio.sleep(0.005)
    return SyncSample(job_id, cron, answered - sent, time.perf_counter() - sent)


def edit_cron(sample: int) -> str:
    """A distinct yearly cron per sample (2 February, 04:mm / 05:mm), never due during the run."""
    return f"{sample % 60} {4 + sample // 60 % 20} 2 2 *"


async def measure(
    api_base: str, host: SchedulerHost, job_ids: list[str], samples: int, *,
    first: int = 0, deadline: float | None = None,
) -> list[SyncSample]:
    """Up to `samples` edits, of `job_ids[first:]` in order, each at a random point of the sync period.

    With a `deadline` (time.monotonic()), no sample starts unless it can end before it (an upper
    bound: two sync periods plus the pause).
    """
    period = float(host.services.settings.SCHEDULER_SYNC_SECONDS)
    results: list[SyncSample] = []
    async with httpx.AsyncClient(base_url=api_base, timeout=30) as client:
        client.headers["Authorization"] = f"Bearer {await login(client)}"
        for n in range(first, min(first + samples, len(job_ids))):
            pause = random.uniform(0, period)
            if deadline is not None and time.monotonic() + pause + 2 * period + 1 > deadline:
                break
            await asyncio.sleep(pause)
            results.append(await one_sample(client, host, job_ids[n], edit_cron(n)))
    return results

"""A scheduled run waiting to retry (contract 8.10) does not hold a dispatch slot meanwhile."""

from __future__ import annotations

import asyncio

import pytest

from src.scheduler.runtime import SchedulerRuntime
from src.scheduler.services import ExecutionServices

pytestmark = pytest.mark.anyio


async def test_a_retry_wait_lends_its_slot_and_takes_one_back(services: ExecutionServices) -> None:
    runtime = SchedulerRuntime(services)
    runtime.semaphore = asyncio.Semaphore(1)
    await runtime.semaphore.acquire()  # the retrying run's slot
    waiting = asyncio.create_task(runtime._wait_without_slot(0.2))
    # Another fire gets the only slot while the run waits...
    await asyncio.wait_for(runtime.semaphore.acquire(), 5)
    runtime.semaphore.release()
    await waiting
    # ...and the run holds it again when it calls.
    assert runtime.semaphore.locked()

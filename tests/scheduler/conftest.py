"""Helpers for scheduler tests: async services, a fire-time seam, waiting for conditions."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from apscheduler.triggers.base import BaseTrigger

from src.config import Settings
from src.scheduler.runtime import SchedulerRuntime
from src.scheduler.services import ExecutionServices, close_execution_services, open_execution_services
from tests.receivers import Receiver


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[ExecutionServices]:
    opened = await open_execution_services(settings)
    try:
        yield opened
    finally:
        await close_execution_services(opened)


class InstantsTrigger(BaseTrigger):
    """Fires at the given instants only (the tests' "next run = now + 1 s" seam)."""

    def __init__(self, instants: Sequence[datetime]) -> None:
        self.instants = sorted(i.astimezone(UTC) for i in instants)

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        # Like CronTrigger: from `now` on a first call, strictly after the previous fire otherwise.
        for instant in self.instants:
            if (instant > previous_fire_time) if previous_fire_time is not None else (instant >= now):
                return instant
        return None

    def __str__(self) -> str:
        return f"instants[{len(self.instants)}]"


def whole_second(delay: float) -> datetime:
    """A whole second at least `delay` seconds from now (UTC, aware)."""
    moment = datetime.now(UTC) + timedelta(seconds=delay)
    return moment.replace(microsecond=0) + timedelta(seconds=1)


def fire_soon(runtime: SchedulerRuntime, job_id: str, delay: float = 1.0) -> datetime:
    """Move a registered job's next fire to a whole second about `delay` s ahead (the trigger stays)."""
    assert runtime.scheduler is not None
    at = whole_second(delay)
    runtime.scheduler.modify_job(job_id, next_run_time=at)
    runtime.scheduler.wakeup()
    return at


async def wait_until(condition: Callable[[], Any], timeout: float = 10.0, step: float = 0.05) -> Any:
    """Poll until `condition()` is truthy; returns its value or fails after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(step)


class TimedReceiver(Receiver):
    """The loopback receiver, plus arrival times and per-path answer delays (slow targets)."""

    def __init__(self) -> None:
        super().__init__()
        self.delays: dict[str, float] = {}
        self.arrived: list[tuple[str, datetime]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()

    def delay(self, path: str, seconds: float) -> None:
        self.delays[path] = seconds

    def _reply_for(self, path: str) -> Any:
        bare = path.split("?", 1)[0]
        with self._lock:
            self.arrived.append((bare, datetime.now(UTC)))
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            time.sleep(self.delays.get(bare, 0.0))
        finally:
            with self._lock:
                self.in_flight -= 1
        return super()._reply_for(path)

    def arrivals(self, path: str) -> list[datetime]:
        return [at for p, at in self.arrived if p == path]


@pytest.fixture
def receiver() -> Iterator[TimedReceiver]:
    server = TimedReceiver().start()
    try:
        yield server
    finally:
        server.stop()

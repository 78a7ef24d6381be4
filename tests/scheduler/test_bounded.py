"""Bounded work and exactly-once: slow targets, the concurrency cap, several schedulers racing."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from src.config import Settings
from src.models import Job, JobExecution, User
from src.scheduler.runtime import SchedulerRuntime
from src.scheduler.services import ExecutionServices, close_execution_services, open_execution_services
from tests.conftest import Factory
from tests.scheduler.conftest import InstantsTrigger, wait_until, whole_second
from tests.scheduler.conftest import TimedReceiver as Receiver

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"SCHEDULER_MAX_CONCURRENT_RUNS": 2, "OUTBOUND_TIMEOUT_SECONDS": 1.5}


@pytest.fixture
def owner(factory: Factory) -> User:
    return factory.user("user")


def _finished(db: Session, job: Job) -> list[JobExecution]:
    db.expire_all()
    return [e for e in db.scalars(select(JobExecution).where(JobExecution.job_id == job.id)) if e.status != "running"]


async def test_slow_target_fails_on_timeout_while_other_jobs_fire_on_time(
    services: ExecutionServices, db: Session, factory: Factory, owner: User, receiver: Receiver
) -> None:
    receiver.delay("/hook/slow", 4.0)
    slow = factory.job(owner, target_url=f"{receiver.url}/hook/slow")
    fast = [factory.job(owner, target_url=f"{receiver.url}/hook/fast{i}") for i in range(3)]
    first = whole_second(1.0)
    instants = [first + timedelta(seconds=s) for s in range(3)]
    runtime = SchedulerRuntime(services, trigger_for=lambda _row: InstantsTrigger(instants))
    try:
        await runtime.start()
        await wait_until(lambda: all(len(_finished(db, job)) == 3 for job in fast), timeout=10)
        await wait_until(lambda: len(_finished(db, slow)) == 3, timeout=10)
    finally:
        await runtime.stop()
    for i in range(3):
        hits = receiver.arrivals(f"/hook/fast{i}")
        # Every fast fire reached the receiver within a second of its scheduled time.
        assert [round((hit - at).total_seconds()) for hit, at in zip(hits, instants, strict=True)] == [0, 0, 0]
    runs = _finished(db, slow)
    assert {run.status for run in runs} == {"failed"}
    assert all(run.error_message.startswith("Webhook call failed:") for run in runs)  # type: ignore[union-attr]  # None here fails the test, as it should



async def test_slow_target_run_error_says_it_timed_out(
    services: ExecutionServices, db: Session, factory: Factory, owner: User, receiver: Receiver
) -> None:
    receiver.delay("/hook/slow", 3.0)
    slow = factory.job(owner, target_url=f"{receiver.url}/hook/slow")
    runtime = SchedulerRuntime(services, trigger_for=lambda _row: InstantsTrigger([whole_second(0.5)]))
    try:
        await runtime.start()
        await wait_until(lambda: _finished(db, slow), timeout=10)
    finally:
        await runtime.stop()
    [run] = _finished(db, slow)
    assert "timed out" in (run.error_message or "").lower() or "timeout" in (run.error_message or "").lower()


async def test_dispatches_in_flight_never_exceed_max_concurrent_runs(
    services: ExecutionServices, db: Session, factory: Factory, owner: User, receiver: Receiver
) -> None:
    jobs = [factory.job(owner, target_url=f"{receiver.url}/hook/b{i}") for i in range(5)]
    for i in range(5):
        receiver.delay(f"/hook/b{i}", 0.5)
    at = whole_second(1.0)
    runtime = SchedulerRuntime(services, trigger_for=lambda _row: InstantsTrigger([at]))
    try:
        await runtime.start()
        await wait_until(lambda: all(_finished(db, job) for job in jobs), timeout=10)
    finally:
        await runtime.stop()
    assert len(receiver.arrived) == 5
    assert receiver.max_in_flight == 2


async def test_several_schedulers_racing_dispatch_each_fire_once(
    settings: Settings, db: Session, factory: Factory, owner: User, receiver: Receiver
) -> None:
    jobs = [factory.job(owner, target_url=f"{receiver.url}/hook/r{i}") for i in range(10)]
    opened = [await open_execution_services(settings) for _ in range(3)]
    # Fixed once the services are open (slow on a loaded machine) and far enough ahead that all three
    # runtimes have started before the first: a fire that passed before a runtime started is not raced.
    first = whole_second(2.0)
    instants = [first, first + timedelta(seconds=1)]
    runtimes = [SchedulerRuntime(s, trigger_for=lambda _row: InstantsTrigger(instants)) for s in opened]
    try:
        for runtime in runtimes:
            await runtime.start()
        await wait_until(lambda: sum(len(_finished(db, job)) for job in jobs) == 20, timeout=15)
        await asyncio.sleep(0.5)
    finally:
        for runtime in runtimes:
            await runtime.stop()
        for s in opened:
            await close_execution_services(s)
    assert sorted(r.path for r in receiver.requests) == sorted(f"/hook/r{i}" for i in range(10) for _ in range(2))
    db.expire_all()
    assert db.scalar(select(func.count(JobExecution.id))) == 20
    attempts = sum(r.fires_started for r in runtimes)
    assert attempts >= 20 * 2  # the racing schedulers really did attempt the same fires


class _HeldFinish:
    """The runtime's finish step, held until `gate` opens (rows stay `running` meanwhile)."""

    def __init__(self, inner: Any, gate: asyncio.Event) -> None:
        self.inner = inner
        self.gate = gate

    async def submit(self, item: Any) -> Any:
        await self.gate.wait()
        return await self.inner.submit(item)


async def test_a_dispatch_slot_is_free_once_its_target_answered_before_the_run_is_recorded(
    services: ExecutionServices, db: Session, factory: Factory, owner: User, receiver: Receiver
) -> None:
    jobs = [factory.job(owner, target_url=f"{receiver.url}/hook/h{i}") for i in range(3)]
    runtime = SchedulerRuntime(services, trigger_for=lambda _row: InstantsTrigger([whole_second(1.0)]))
    gate = asyncio.Event()
    runtime.execution_steps.finish = _HeldFinish(runtime.execution_steps.finish, gate)  # type: ignore[assignment]  # a stand-in that holds finishes until the gate opens
    try:
        await runtime.start()
        # Two slots, three fires: the third goes out while the first two are still unrecorded.
        await wait_until(lambda: len(receiver.arrived) == 3, timeout=10)
        gate.set()
        await wait_until(lambda: all(len(_finished(db, job)) == 1 for job in jobs), timeout=10)
    finally:
        gate.set()
        await runtime.stop()
    assert receiver.max_in_flight <= 2


async def test_a_burst_writes_its_rows_before_waiting_for_dispatch_slots(
    services: ExecutionServices, db: Session, factory: Factory, owner: User, receiver: Receiver
) -> None:
    jobs = [factory.job(owner, target_url=f"{receiver.url}/hook/w{i}") for i in range(3)]
    for i in range(3):
        receiver.delay(f"/hook/w{i}", 0.8)
    runtime = SchedulerRuntime(services, trigger_for=lambda _row: InstantsTrigger([whole_second(1.0)]))
    try:
        await runtime.start()
        # Two slots, three fires: while two calls are out, the third run's row is already written.
        await wait_until(lambda: len(receiver.arrived) == 2, timeout=10)
        db.expire_all()
        running = db.scalars(select(JobExecution).where(JobExecution.status == "running")).all()
        await wait_until(lambda: all(len(_finished(db, job)) == 1 for job in jobs), timeout=10)
    finally:
        await runtime.stop()
    assert len(running) == 3
    assert len(receiver.arrived) == 3 and receiver.max_in_flight <= 2

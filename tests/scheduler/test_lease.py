"""The database lease: one leader at a time, renewal, takeover after expiry, release, kill -9."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from src.config import Settings
from src.database.engines import create_async_engine_from_settings
from src.models import JobExecution, SchedulerLease, User, utcnow
from src.scheduler.host import SchedulerHost
from src.scheduler.lease import Lease
from src.scheduler.services import ExecutionServices
from tests.conftest import Factory, legacy_door
from tests.scheduler.conftest import TimedReceiver as Receiver
from tests.scheduler.conftest import wait_until

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _lease_row(db: Session) -> SchedulerLease | None:
    db.expire_all()
    return db.scalar(select(SchedulerLease))


@pytest.mark.anyio
async def test_only_one_contender_wins_and_the_holder_renews(settings: Settings, db: Session) -> None:
    engine = create_async_engine_from_settings(settings)
    first, second = Lease(engine, 5, "first"), Lease(engine, 5, "second")
    try:
        assert await first.acquire_or_renew() is True
        acquired_at = _lease_row(db).acquired_at  # type: ignore[union-attr]  # None here fails the test, as it should
        assert await second.acquire_or_renew() is False
        assert await first.acquire_or_renew() is True
        row = _lease_row(db)
    finally:
        await engine.dispose()
    assert (row.owner_id, row.acquired_at, row.pid) == ("first", acquired_at, os.getpid())  # type: ignore[union-attr]  # None here fails the test, as it should
    assert first.held() and not second.held()


@pytest.mark.anyio
async def test_an_expired_lease_is_taken_over(settings: Settings) -> None:
    engine = create_async_engine_from_settings(settings)
    first, second = Lease(engine, 1, "first"), Lease(engine, 1, "second")
    try:
        assert await first.acquire_or_renew() is True
        time.sleep(1.1)
        assert first.held() is False  # stopped trusting it before it expired in the database
        assert await second.acquire_or_renew() is True
        assert await first.acquire_or_renew() is False
    finally:
        await engine.dispose()
    assert second.covered_until() is not None


@pytest.mark.anyio
@pytest.mark.parametrize("settings_overrides", [{"SCHEDULER_HOST": "fastapi", "SCHEDULER_LEASE_SECONDS": 2}])
async def test_a_start_slower_than_the_lease_keeps_the_lease(settings: Settings, services: ExecutionServices) -> None:
    host = SchedulerHost(services, "fastapi")
    start = host.runtime.start

    async def slow_start(**options: Any) -> Any:
        await asyncio.sleep(5)  # a reconciliation on a starved process: longer than two leases
        return await start(**options)

    host.runtime.start = slow_start  # type: ignore[method-assign]  # replacing the method is the point
    engine = create_async_engine_from_settings(settings)
    rival = Lease(engine, 2, "rival")
    host.start()
    try:
        await wait_until(host.lease.held)
        rival_wins = []
        deadline = time.monotonic() + 30
        while not host.is_leader and time.monotonic() < deadline:
            rival_wins.append(await rival.acquire_or_renew())
            await asyncio.sleep(0.25)
    finally:
        await host.stop()
        await engine.dispose()
    assert len(rival_wins) >= 10
    assert not any(rival_wins)


@pytest.mark.anyio
async def test_a_released_lease_is_free_at_once(settings: Settings) -> None:
    engine = create_async_engine_from_settings(settings)
    first, second = Lease(engine, 30, "first"), Lease(engine, 30, "second")
    try:
        assert await first.acquire_or_renew() is True
        await first.release()
        assert await second.acquire_or_renew() is True
    finally:
        await engine.dispose()


# --- real processes on one SQLite file ---------------------------------------------------------

LEASE_SECONDS = 2
SYNC_SECONDS = 0.3


class Processes:
    def __init__(self, settings: Settings, tmp: Path) -> None:
        self.settings = settings
        self.tmp = tmp
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self, fire_at: list[float], kind: str = "fastapi", host: str = "fastapi") -> subprocess.Popen[bytes]:
        env = dict(os.environ, DATABASE_URL=self.settings.DATABASE_URL, HOST_KIND=kind, SCHEDULER_HOST=host,
                   SCHEDULER_LEASE_SECONDS=str(LEASE_SECONDS), SCHEDULER_SYNC_SECONDS=str(SYNC_SECONDS),
                   FIRE_AT=",".join(str(v) for v in fire_at))
        log = open(self.tmp / f"proc{len(self.started)}.log", "wb")  # noqa: SIM115  # the file outlives this block: the child process writes to it
        process = subprocess.Popen([sys.executable, "-m", "tests.scheduler.scheduler_process"], cwd=ROOT, env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
        self.started.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.kill()
            process.wait(5)


@pytest.fixture
def processes(settings: Settings, tmp_path: Path) -> Iterator[Processes]:
    group = Processes(settings, tmp_path)
    try:
        yield group
    finally:
        group.stop_all()


def _wait(condition, timeout: float) -> float:  # type: ignore[no-untyped-def]  # a small polling helper over callables
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(0.05)
    return time.monotonic() - start


def _leader_pid(db: Session) -> int | None:
    row = _lease_row(db)
    if row is None or row.expires_at <= utcnow():
        return None
    return row.pid


def test_two_processes_one_leads_and_the_other_takes_over_after_kill_9(
    processes: Processes, db: Session, factory: Factory, receiver: Receiver
) -> None:
    owner: User = factory.user("user")
    jobs = [factory.job(owner, target_url=f"{receiver.url}/hook/k{i}") for i in range(5)]
    first_fire = time.time() + 6
    second_fire = first_fire + 6
    a = processes.start([first_fire, second_fire])
    _wait(lambda: _leader_pid(db) == a.pid, 10)
    b = processes.start([first_fire, second_fire])
    time.sleep(LEASE_SECONDS + 0.5)
    assert _leader_pid(db) == a.pid  # b idles while a renews

    _wait(lambda: len(receiver.requests) == 5, first_fire - time.time() + 5)
    os.kill(a.pid, signal.SIGKILL)
    a.wait(5)
    took = _wait(lambda: _leader_pid(db) == b.pid, LEASE_SECONDS + SYNC_SECONDS + 3)
    assert took <= LEASE_SECONDS + SYNC_SECONDS + LEASE_SECONDS / 3 + 1.0

    _wait(lambda: len(receiver.requests) == 10, second_fire - time.time() + 5)
    time.sleep(1.0)
    assert Counter(r.path for r in receiver.requests) == {f"/hook/k{i}": 2 for i in range(len(jobs))}


def test_clean_shutdown_releases_the_lease_and_the_follower_leads_at_once(
    processes: Processes, db: Session
) -> None:
    a = processes.start([])
    _wait(lambda: _leader_pid(db) == a.pid, 10)
    b = processes.start([])
    time.sleep(1.5)
    a.send_signal(signal.SIGTERM)
    assert a.wait(10) == 0
    took = _wait(lambda: _leader_pid(db) == b.pid, LEASE_SECONDS + 2)
    assert took < LEASE_SECONDS  # no waiting for expiry: the lease was released


@legacy_door
def test_a_process_of_another_kind_never_competes(processes: Processes, db: Session) -> None:
    processes.start([], kind="fastapi", host="flask")
    time.sleep(2.5)
    assert _leader_pid(db) is None


@legacy_door
def test_phase_switch_moves_the_scheduler_between_hosts_without_losing_or_doubling_a_fire(
    processes: Processes, db: Session, factory: Factory, receiver: Receiver
) -> None:
    """Side-by-side (Flask hosts) → cutover (FastAPI hosts) → back, with jobs firing throughout."""
    from src.core.phases import set_phase

    owner: User = factory.user("user")
    jobs = [factory.job(owner, target_url=f"{receiver.url}/hook/s{i}") for i in range(3)]
    set_phase(db, "side-by-side")
    db.commit()
    start = time.time() + 4
    # A fire every 3 s: longer than a handover (release + one heartbeat), so none coalesce.
    fires = [start + 3 * n for n in range(6)]
    flask = processes.start(fires, kind="flask", host="flask")
    fastapi = processes.start(fires, kind="fastapi", host="flask")
    _wait(lambda: _leader_pid(db) == flask.pid, 10)

    _wait(lambda: len(receiver.requests) >= 2 * len(jobs), fires[1] - time.time() + 5)
    set_phase(db, "cutover")
    db.commit()
    _wait(lambda: _leader_pid(db) == fastapi.pid, LEASE_SECONDS * 3)
    _wait(lambda: len(receiver.requests) >= 4 * len(jobs), fires[3] - time.time() + 5)
    set_phase(db, "side-by-side")
    db.commit()
    _wait(lambda: _leader_pid(db) == flask.pid, LEASE_SECONDS * 3)

    _wait(lambda: len(receiver.requests) >= len(fires) * len(jobs), fires[-1] - time.time() + 5)
    time.sleep(1.0)
    assert Counter(r.path for r in receiver.requests) == {f"/hook/s{i}": len(fires) for i in range(len(jobs))}
    db.expire_all()
    recorded = db.scalars(select(JobExecution.scheduled_for).where(JobExecution.job_id == jobs[0].id)).all()
    assert len(recorded) == len(set(recorded)) == len(fires)

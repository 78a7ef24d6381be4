"""Three scheduler processes on one PostgreSQL database: 200 jobs due the same second, the leader
killed (kill -9) between two waves; every fire reaches the receiver exactly once.

Skips with the reason when no server answers (TEST_DATABASE_URL, default 127.0.0.1:5432);
fails instead when REQUIRE_POSTGRES=1.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from src.config import Settings
from src.database.engines import create_sync_engine_from_settings, make_session_factory
from src.database.migrate import upgrade_to_head
from src.models import Job, JobExecution, SchedulerLease, User, new_id, utcnow
from tests import pg_databases
from tests.conftest import make_settings
from tests.scheduler.conftest import TimedReceiver

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
JOBS = 200
LEASE_SECONDS = 2


@pytest.fixture
def pg_settings() -> Iterator[Settings]:
    server = pg_databases.server_or_skip()
    name = pg_databases.scratch_name("replicas")
    settings = make_settings(server.create(name))
    upgrade_to_head(settings)
    yield settings
    server.drop(name)


@pytest.fixture
def pg_db(pg_settings: Settings) -> Iterator[Session]:
    engine = create_sync_engine_from_settings(pg_settings)
    session = make_session_factory(engine)()
    try:
        yield session
    finally:
        session.close()
        engine.dispose()


@pytest.fixture
def hook_receiver() -> Iterator[TimedReceiver]:
    server = TimedReceiver().start()
    try:
        yield server
    finally:
        server.stop()


def _leader_pid(db: Session) -> int | None:
    db.expire_all()
    row = db.scalar(select(SchedulerLease))
    return row.pid if row is not None and row.expires_at > utcnow() else None


def _run_counts(db: Session) -> dict[str, int]:
    """Runs by scheduled second and status; a failed run's error is part of its key."""
    db.expire_all()
    rows = db.execute(select(JobExecution.scheduled_for, JobExecution.status, JobExecution.error_message)).all()
    return dict(Counter(f"{at:%H:%M:%S} {status}" + (f" ({error})" if status == "failed" else "")
                        for at, status, error in rows))


def _wait(condition, timeout: float, state=lambda: "") -> None:  # type: ignore[no-untyped-def]  # a small polling helper over callables
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout:.1f} s {state()}")
        time.sleep(0.1)


def test_three_replicas_fire_every_job_exactly_once_across_a_leader_kill(
    pg_settings: Settings, pg_db: Session, hook_receiver: TimedReceiver, tmp_path: Path
) -> None:
    owner = User(username="owner", email="owner@example.com", password_hash="x", role="user")
    pg_db.add(owner)
    pg_db.commit()
    pg_db.execute(insert(Job), [
        {"id": new_id(), "name": f"job-{i:03d}", "cron_expression": "0 2 * * *", "created_by": owner.id,
         "target_url": f"{hook_receiver.url}/hook/{i:03d}", "pic_team": "team-a"}
        for i in range(JOBS)
    ])
    pg_db.commit()
    first_wave = time.time() + 10
    second_wave = first_wave + 8
    env = dict(os.environ, DATABASE_URL=pg_settings.DATABASE_URL, HOST_KIND="fastapi", SCHEDULER_HOST="fastapi",
               SCHEDULER_LEASE_SECONDS=str(LEASE_SECONDS), SCHEDULER_SYNC_SECONDS="0.5",
               FIRE_AT=f"{first_wave},{second_wave}")
    replicas: list[subprocess.Popen[bytes]] = []
    try:
        for n in range(3):
            log = open(os.environ.get("REPLICA_LOG_DIR", str(tmp_path)) + f"/replica{n}.log", "wb")  # noqa: SIM115  # the file outlives this block: the child process writes to it
            replicas.append(subprocess.Popen([sys.executable, "-m", "tests.scheduler.scheduler_process"],
                                             cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT))
        _wait(lambda: _leader_pid(pg_db) in {p.pid for p in replicas}, 10)

        _wait(lambda: len(hook_receiver.requests) >= JOBS, first_wave - time.time() + 15,
              lambda: f"{len(hook_receiver.requests)} requests")
        leader = next(p for p in replicas if p.pid == _leader_pid(pg_db))
        os.kill(leader.pid, signal.SIGKILL)
        leader.wait(5)
        _wait(lambda: _leader_pid(pg_db) in {p.pid for p in replicas if p is not leader}, LEASE_SECONDS + 4)

        _wait(lambda: len(hook_receiver.requests) >= 2 * JOBS, second_wave - time.time() + 15,
              lambda: f"{len(hook_receiver.requests)} requests, runs: {_run_counts(pg_db)}")
        time.sleep(2.0)  # anything duplicated would arrive now
    finally:
        for process in replicas:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in replicas:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
    counts = Counter(r.path for r in hook_receiver.requests)
    assert counts == {f"/hook/{i:03d}": 2 for i in range(JOBS)}
    pg_db.expire_all()
    rows = pg_db.execute(select(JobExecution.scheduled_for, JobExecution.status)).all()
    assert len(rows) == 2 * JOBS
    # Runs the killed leader had dispatched but not yet finalized stay `running` (the next leader
    # closes them as interrupted once they are old enough); every other run succeeded.
    first = datetime.fromtimestamp(first_wave, UTC).replace(tzinfo=None)
    assert {status for at, status in rows if at != first} == {"success"}
    assert {status for _at, status in rows} <= {"success", "running"}

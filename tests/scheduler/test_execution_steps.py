"""Group-committed run steps: runs ready together share transactions; a taken fire fails alone."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from src.models import JobExecution, User
from src.scheduler.execution_steps import ExecutionSteps
from src.scheduler.executor import execute_job
from src.scheduler.services import ExecutionServices
from tests.conftest import Factory
from tests.receivers import Receiver
from tests.sql_statements import counting

pytestmark = pytest.mark.anyio

FIRE = datetime(2030, 1, 1, 2, 0, 0)


@pytest.fixture
def owner(factory: Factory) -> User:
    return factory.user("user")


@pytest.fixture
def loopback() -> Iterator[Receiver]:
    server = Receiver().start()
    try:
        yield server
    finally:
        server.stop()


async def test_runs_fired_together_insert_their_rows_in_fewer_statements_than_runs(
    services: ExecutionServices, db: Session, factory: Factory, owner: User, loopback: Receiver
) -> None:
    jobs = [factory.job(owner, target_url=f"{loopback.url}/hook/{i}") for i in range(10)]
    steps = ExecutionSteps(services, grouped=True)
    with counting(services.engine.sync_engine) as statements:
        ids = await asyncio.gather(*(execute_job(services, job.id, "scheduled", scheduled_for=FIRE, steps=steps)
                                     for job in jobs))
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT INTO JOB_EXECUTIONS")]
    assert len(inserts) < len(jobs)
    db.expire_all()
    rows = list(db.scalars(select(JobExecution).where(JobExecution.id.in_(ids))))
    assert sorted(row.status for row in rows) == ["success"] * len(jobs)
    assert len(loopback.requests) == len(jobs)


async def test_a_fire_another_scheduler_took_fails_alone_and_the_others_of_its_batch_run(
    services: ExecutionServices, db: Session, factory: Factory, owner: User, loopback: Receiver
) -> None:
    taken = factory.job(owner, target_url=f"{loopback.url}/hook/taken")
    free = factory.job(owner, target_url=f"{loopback.url}/hook/free")
    factory.execution(taken, status="success", trigger_type="scheduled", scheduled_for=FIRE)
    steps = ExecutionSteps(services, grouped=True)
    results = await asyncio.gather(*(execute_job(services, job.id, "scheduled", scheduled_for=FIRE, steps=steps)
                                     for job in (taken, free)))
    assert results[0] is None and results[1] is not None
    assert [r.path for r in loopback.requests] == ["/hook/free"]


async def test_a_run_is_finalized_only_once_no_fire_waits_to_be_dispatched(
    services: ExecutionServices, db: Session, factory: Factory, owner: User, loopback: Receiver
) -> None:
    job = factory.job(owner, target_url=f"{loopback.url}/hook/1")
    burst_pending = True
    steps = ExecutionSteps(services, grouped=True, defer_while=lambda: burst_pending)
    run = asyncio.create_task(execute_job(services, job.id, "scheduled", scheduled_for=FIRE, steps=steps))
    while not loopback.requests:
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.3)
    db.expire_all()
    assert db.scalars(select(JobExecution.status)).all() == ["running"]
    burst_pending = False
    await asyncio.wait_for(run, 5)
    db.expire_all()
    assert db.scalars(select(JobExecution.status)).all() == ["success"]


async def test_a_deferred_run_is_finalized_after_the_longest_deferral_even_if_fires_keep_coming(
    services: ExecutionServices, db: Session, factory: Factory, owner: User, loopback: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("src.scheduler.execution_steps.MAX_DEFER_SECONDS", 0.3)
    job = factory.job(owner, target_url=f"{loopback.url}/hook/1")
    steps = ExecutionSteps(services, grouped=True, defer_while=lambda: True)
    await asyncio.wait_for(execute_job(services, job.id, "scheduled", scheduled_for=FIRE, steps=steps), 5)
    db.expire_all()
    assert db.scalars(select(JobExecution.status)).all() == ["success"]

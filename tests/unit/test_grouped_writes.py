"""Writes on SQLite committed in groups: each caller still sees its own unit of work's outcome."""

from __future__ import annotations

import asyncio
import fcntl
import os
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, create_engine, event, func, select, text
from sqlalchemy.orm import Session

from src.config import Settings
from src.core import outbox
from src.core.clock import local_today
from src.core.errors import Invalid
from src.core.unit_of_work import Messages
from src.database.engines import install_sqlite_pragmas, make_session_factory
from src.fastapi_app.grouped_writes import GroupedWrites
from src.fastapi_app.main import create_app
from src.models import Job, Notification
from tests.conftest import Factory

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class KeptInvalid(Invalid):
    keep_changes = True


class Broken(RuntimeError):
    pass


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_engine(f"sqlite:///{tmp_path / 'grouped.db'}", connect_args={"check_same_thread": False})
    install_sqlite_pragmas(engine)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE notes (body TEXT)"))
    yield engine
    engine.dispose()


@pytest.fixture
def commits(engine: Engine) -> list[int]:
    counted: list[int] = []
    event.listen(engine, "commit", lambda _connection: counted.append(1))
    return counted


@pytest.fixture
def sent() -> list[Messages]:
    return []


@pytest.fixture
async def writes(engine: Engine, sent: list[Messages]) -> AsyncIterator[GroupedWrites]:
    grouped = GroupedWrites(make_session_factory(engine), sent.append, None)
    yield grouped
    grouped.close()


def _notes(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return sorted(connection.execute(text("SELECT body FROM notes")).scalars())


def note(body: str, then: Callable[[], None] | None = None) -> Callable[[Session], str]:
    """A write that inserts one note, then (optionally) fails as `then` does."""
    def write(session: Session) -> str:
        session.execute(text("INSERT INTO notes (body) VALUES (:body)"), {"body": body})
        outbox.queue(session, outbox.SlackMessage("http://127.0.0.1:9/hook", body))
        if then is not None:
            then()
        return body
    return write


def fail_with(error: Exception) -> Callable[[], None]:
    def fail() -> None:
        raise error
    return fail


async def _together(writes: GroupedWrites, *operations: Callable[[Session], Any]) -> list[Any]:
    return await asyncio.gather(*(writes.run(operation) for operation in operations), return_exceptions=True)


async def test_writes_queued_together_are_committed_in_one_transaction(
        writes: GroupedWrites, engine: Engine, commits: list[int]) -> None:
    results = await _together(writes, *(note(f"n{i}") for i in range(5)))
    assert results == [f"n{i}" for i in range(5)]
    assert _notes(engine) == [f"n{i}" for i in range(5)]
    assert len(commits) == 1


async def test_a_write_sees_the_writes_before_it_in_its_group(writes: GroupedWrites) -> None:
    def count(session: Session) -> int:
        return int(session.scalar(text("SELECT count(*) FROM notes")))

    results = await _together(writes, note("first"), count)
    assert results == ["first", 1]


async def test_a_write_failing_with_a_core_error_is_rolled_back_alone(
        writes: GroupedWrites, engine: Engine, commits: list[int]) -> None:
    results = await _together(writes, note("a"), note("refused", fail_with(Invalid("Invalid input"))), note("c"))
    assert results[0] == "a" and results[2] == "c"
    assert isinstance(results[1], Invalid)
    assert _notes(engine) == ["a", "c"]
    assert len(commits) == 1


async def test_a_core_error_that_keeps_its_changes_commits_them_and_still_reaches_its_caller(
        writes: GroupedWrites, engine: Engine) -> None:
    results = await _together(writes, note("a"), note("kept", fail_with(KeptInvalid("Invalid input"))))
    assert isinstance(results[1], KeptInvalid)
    assert _notes(engine) == ["a", "kept"]


async def test_an_unexpected_error_runs_each_write_of_the_group_alone(
        writes: GroupedWrites, engine: Engine, commits: list[int]) -> None:
    results = await _together(writes, note("a"), note("broken", fail_with(Broken("boom"))), note("c"))
    assert results[0] == "a" and results[2] == "c"
    assert isinstance(results[1], Broken)
    assert _notes(engine) == ["a", "c"]  # each once: the group's own insert of them was rolled back
    assert len(commits) == 2  # "a" and "c", each in its own unit of work


async def test_only_committed_writes_have_their_messages_sent(writes: GroupedWrites, sent: list[Messages]) -> None:
    await _together(writes, note("a"), note("refused", fail_with(Invalid("Invalid input"))),
                    note("kept", fail_with(KeptInvalid("Invalid input"))))
    assert sorted(message.text for messages in sent for message in messages) == ["a", "kept"]


async def test_a_write_whose_caller_went_away_is_still_committed(writes: GroupedWrites, engine: Engine) -> None:
    task = asyncio.create_task(writes.run(note("abandoned")))
    await asyncio.sleep(0)  # queued
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert _notes(engine) == ["abandoned"]


async def test_a_group_waits_while_another_worker_holds_the_writers_lock(
        engine: Engine, tmp_path: Path, sent: list[Messages]) -> None:
    lock_path = tmp_path / "writers.lock"
    grouped = GroupedWrites(make_session_factory(engine), sent.append, lock_path)
    other_worker = os.open(lock_path, os.O_RDWR | os.O_CREAT)
    fcntl.flock(other_worker, fcntl.LOCK_EX)
    try:
        task = asyncio.create_task(grouped.run(note("after its turn")))
        await asyncio.sleep(0.3)
        assert not task.done()
        assert _notes(engine) == []
    finally:
        fcntl.flock(other_worker, fcntl.LOCK_UN)
        os.close(other_worker)
    assert await task == "after its turn"
    grouped.close()


async def test_concurrent_job_creates_through_the_v2_door_each_commit_once(
        settings: Settings, factory: Factory, db: Session) -> None:
    admin = factory.user("admin")
    factory.team("Team A", slug="team-a")
    token = factory.token(admin)
    end_date = (local_today(settings.scheduler_tz) + timedelta(days=30)).isoformat()
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://door", timeout=30) as client:
            responses = await asyncio.gather(*(
                client.post("/api/v2/jobs", headers={"Authorization": f"Bearer {token}"}, json={
                    "name": f"Grouped {i}" if i != 3 else "Grouped 0",  # one duplicate name: a 400 of its own
                    "cron_expression": "0 2 * * *", "pic_team": "team-a", "end_date": end_date,
                    "target_url": "https://hooks.example.com/run"})
                for i in range(12)))
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] * 11 + [400]
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Job)) == 11
    assert db.scalar(select(func.count()).select_from(Notification)) == 11  # one user: one each

"""The FastAPI door's units of work: one per call, in a thread hop; lookups on the loop."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from src.config import Settings
from src.core import outbox
from src.core.errors import Invalid
from src.core.unit_of_work import Messages
from src.fastapi_app.main import create_app
from src.fastapi_app.threaded_unit_of_work import ThreadedUnitOfWork
from tests.conftest import Factory


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_sixty_concurrent_requests_all_answer_with_a_pool_of_fifteen(
    settings: Settings, factory: Factory
) -> None:
    token = factory.token(factory.user("viewer"))
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://door", timeout=20) as client:
            responses = await asyncio.gather(*(
                client.get("/api/v2/auth/me", headers={"Authorization": f"Bearer {token}"}) for _ in range(60)
            ))
    assert [response.status_code for response in responses] == [200] * 60


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_engine(f"sqlite:///{tmp_path / 'sessions.db'}", connect_args={"check_same_thread": False})
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE notes (body TEXT)"))
    yield engine
    engine.dispose()


@pytest.fixture
def loop_reads(engine: Engine) -> Iterator[sessionmaker[Session]]:
    reader = create_engine(engine.url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    yield sessionmaker(bind=reader, expire_on_commit=False)
    reader.dispose()


def _notes(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return [row[0] for row in connection.execute(text("SELECT body FROM notes"))]


def _insert(session: Session, body: str) -> None:
    session.execute(text("INSERT INTO notes (body) VALUES (:body)"), {"body": body})


def _units(engine: Engine, sent: list[Messages] | None = None,
           loop_reads: sessionmaker[Session] | None = None) -> ThreadedUnitOfWork:
    return ThreadedUnitOfWork(sessionmaker(bind=engine), 1, (sent if sent is not None else []).append, loop_reads)


def test_each_call_is_committed_in_its_own_hop_and_frees_its_slot(engine: Engine) -> None:
    units = _units(engine)

    async def scenario() -> list[str]:
        await units.run_sync(_insert, "first")
        # Committed already, and the one slot is free: the next call gets it at once.
        return await asyncio.wait_for(units.run_sync(lambda s: list(s.scalars(text("SELECT body FROM notes")))), 5)

    assert asyncio.run(scenario()) == ["first"]
    units.close()


def test_a_failed_call_is_rolled_back_and_sends_nothing(engine: Engine) -> None:
    sent: list[Messages] = []
    units = _units(engine, sent)

    def insert_then_fail(session: Session) -> None:
        _insert(session, "half done")
        outbox.queue(session, outbox.SlackMessage("http://127.0.0.1:9/hook", "never sent"))
        raise RuntimeError("failed after writing")

    async def scenario() -> None:
        with pytest.raises(RuntimeError):
            await units.run_sync(insert_then_fail)

    asyncio.run(scenario())
    assert _notes(engine) == [] and sent == []
    units.close()


def test_a_call_whose_error_keeps_its_changes_commits_and_sends_on_the_loop(engine: Engine) -> None:
    sent: list[Messages] = []
    units = _units(engine, sent)
    message = outbox.SlackMessage("http://127.0.0.1:9/hook", "job paused")

    def pause_then_refuse(session: Session) -> None:
        _insert(session, "paused")
        outbox.queue(session, message)
        error = Invalid("Job expired")
        error.keep_changes = True
        raise error

    async def scenario() -> None:
        with pytest.raises(Invalid):
            await units.run_sync(pause_then_refuse)

    asyncio.run(scenario())
    assert _notes(engine) == ["paused"] and sent == [[message]]
    units.close()


def test_a_cancelled_request_waits_for_its_thread_before_the_slot_is_freed(engine: Engine) -> None:
    units = _units(engine)
    events: list[str] = []

    def slow(session: Session) -> None:
        events.append("operation started")
        time.sleep(0.3)
        _insert(session, "written by the slow operation")
        events.append("operation ended")

    async def scenario() -> None:
        task = asyncio.create_task(units.run_sync(slow))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        events.append("cancellation seen")

    asyncio.run(scenario())
    assert events == ["operation started", "operation ended", "cancellation seen"]
    # The operation had returned: its unit of work committed although the caller went away.
    assert _notes(engine) == ["written by the slow operation"]
    units.close()


def test_a_lookup_runs_on_the_loop_and_its_objects_stay_readable(
    engine: Engine, loop_reads: sessionmaker[Session]
) -> None:
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO notes (body) VALUES ('looked up')"))
    on_sqlite = _units(engine, loop_reads=loop_reads)
    without_loop_reads = _units(engine)

    def lookup(session: Session) -> tuple[int, str]:
        return threading.get_ident(), session.execute(text("SELECT body FROM notes")).scalar_one()

    async def scenario() -> tuple[int, list[tuple[int, str]]]:
        found = [await units.lookup(lookup) for units in (on_sqlite, without_loop_reads)]
        return threading.get_ident(), found

    loop_thread, (read, elsewhere) = asyncio.run(scenario())
    assert read == (loop_thread, "looked up")
    # Without a loop reader (PostgreSQL) the lookup is a unit of work on a thread.
    assert elsewhere[0] != loop_thread and elsewhere[1] == "looked up"
    on_sqlite.close()
    without_loop_reads.close()

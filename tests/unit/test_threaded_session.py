"""The FastAPI door's request session: thread hops, read transactions, lookups on the loop."""

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
from src.fastapi_app.main import create_app
from src.fastapi_app.threaded_session import ThreadedSessionFactory
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


def test_a_read_sessions_operation_is_committed_in_its_own_hop(engine: Engine) -> None:
    factory = ThreadedSessionFactory(sessionmaker(bind=engine), sessions=1)

    async def scenario() -> list[str]:
        session = factory(commit_each_operation=True)
        await session.run_sync(_insert, "default row")
        # Committed already, and its one slot is free: a second session gets it at once.
        other = factory(commit_each_operation=True)
        seen = await asyncio.wait_for(other.run_sync(lambda s: list(s.scalars(text("SELECT body FROM notes")))), 5)
        await session.finish(commit=False)
        await other.finish(commit=True)
        return seen

    assert asyncio.run(scenario()) == ["default row"]
    factory.close()


def test_a_read_sessions_failed_operation_is_rolled_back(engine: Engine) -> None:
    factory = ThreadedSessionFactory(sessionmaker(bind=engine), sessions=1)

    def insert_then_fail(session: Session) -> None:
        _insert(session, "half done")
        raise RuntimeError("failed after writing")

    async def scenario() -> None:
        session = factory(commit_each_operation=True)
        with pytest.raises(RuntimeError):
            await session.run_sync(insert_then_fail)
        await session.finish(commit=True)

    asyncio.run(scenario())
    assert _notes(engine) == []
    factory.close()


def test_a_write_sessions_work_waits_for_finish(engine: Engine) -> None:
    factory = ThreadedSessionFactory(sessionmaker(bind=engine), sessions=1)

    async def scenario() -> list[str]:
        session = factory()
        await session.run_sync(_insert, "pending")
        before_finish = _notes(engine)
        await session.finish(commit=True)
        return before_finish

    assert asyncio.run(scenario()) == []
    assert _notes(engine) == ["pending"]
    factory.close()


def test_a_cancelled_request_waits_for_its_thread_before_the_session_is_ended(engine: Engine) -> None:
    factory = ThreadedSessionFactory(sessionmaker(bind=engine), sessions=1)
    events: list[str] = []

    def slow(session: Session) -> None:
        events.append("operation started")
        time.sleep(0.3)
        _insert(session, "written by the slow operation")
        events.append("operation ended")

    async def scenario() -> None:
        session = factory()
        task = asyncio.create_task(session.run_sync(slow))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        events.append("cancellation seen")
        await session.finish(commit=False)

    asyncio.run(scenario())
    assert events == ["operation started", "operation ended", "cancellation seen"]
    assert _notes(engine) == []
    factory.close()


def test_a_lookup_runs_on_the_loop_and_its_objects_stay_readable(
    engine: Engine, loop_reads: sessionmaker[Session]
) -> None:
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO notes (body) VALUES ('looked up')"))
    on_sqlite = ThreadedSessionFactory(sessionmaker(bind=engine), sessions=1, loop_reads=loop_reads)
    without_loop_reads = ThreadedSessionFactory(sessionmaker(bind=engine), sessions=1)

    def lookup(session: Session) -> tuple[int, str]:
        return threading.get_ident(), session.execute(text("SELECT body FROM notes")).scalar_one()

    async def scenario() -> tuple[int, list[tuple[int, str]]]:
        sessions = [on_sqlite(commit_each_operation=True), on_sqlite(), without_loop_reads()]
        found = [await session.run_lookup(lookup) for session in sessions]
        for session in sessions:
            await session.finish(commit=True)
        return threading.get_ident(), found

    loop_thread, (read, write, elsewhere) = asyncio.run(scenario())
    assert read == (loop_thread, "looked up") and write == (loop_thread, "looked up")
    # Without a loop reader (PostgreSQL) the lookup runs in the request's session, on a thread.
    assert elsewhere[0] != loop_thread and elsewhere[1] == "looked up"
    on_sqlite.close()
    without_loop_reads.close()

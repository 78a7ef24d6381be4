"""The unit of work (sync and async twin): commit, roll back, keep_changes, the outbox after commit."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, sessionmaker

from src.core import outbox
from src.core.errors import Invalid
from src.core.unit_of_work import Messages, async_unit_of_work, unit_of_work

MESSAGE = outbox.SlackMessage("http://127.0.0.1:9/hook", "hello")


@pytest.fixture
def database(tmp_path: Path) -> Iterator[tuple[Engine, str]]:
    path = tmp_path / "units.db"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE notes (body TEXT)"))
    yield engine, str(path)
    engine.dispose()


def _notes(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return [row[0] for row in connection.execute(text("SELECT body FROM notes"))]


def _write(session: Session, body: str) -> None:
    session.execute(text("INSERT INTO notes (body) VALUES (:body)"), {"body": body})
    outbox.queue(session, MESSAGE)


def _kept_error() -> Invalid:
    error = Invalid("Kept", "the work before this error is committed")
    error.keep_changes = True
    return error


@pytest.mark.parametrize(
    ("error", "committed"),
    [(None, True), (RuntimeError("failed"), False), (Invalid("Refused"), False), (_kept_error(), True)],
    ids=["returned", "raised", "core-error", "keep-changes"],
)
def test_sync_unit_commits_or_rolls_back_and_sends_only_committed_messages(
    database: tuple[Engine, str], error: BaseException | None, committed: bool
) -> None:
    engine, _ = database
    sent: list[Messages] = []
    states: list[bool] = []

    def send(messages: Messages) -> None:
        states.append(bool(_notes(engine)))  # sent once the commit is visible to others
        sent.append(messages)

    def work() -> None:
        with unit_of_work(sessionmaker(bind=engine), send) as session:
            _write(session, "written")
            if error is not None:
                raise error

    if error is None:
        work()
    else:
        with pytest.raises(type(error)):
            work()
    assert _notes(engine) == (["written"] if committed else [])
    assert sent == ([[MESSAGE]] if committed else [])
    assert states == ([True] if committed else [])


@pytest.mark.parametrize(
    ("error", "committed"),
    [(None, True), (RuntimeError("failed"), False), (_kept_error(), True)],
    ids=["returned", "raised", "keep-changes"],
)
def test_async_unit_commits_or_rolls_back_and_sends_only_committed_messages(
    database: tuple[Engine, str], error: BaseException | None, committed: bool
) -> None:
    engine, path = database
    sent: list[Messages] = []

    async def send(messages: Messages) -> None:
        sent.append(messages)

    async def scenario() -> None:
        async_engine = create_async_engine(f"sqlite+aiosqlite:///{path}")
        factory: async_sessionmaker[AsyncSession] = async_sessionmaker(bind=async_engine)
        try:
            async with async_unit_of_work(factory, send) as session:
                await session.run_sync(_write, "written")
                if error is not None:
                    raise error
        finally:
            await async_engine.dispose()

    if error is None:
        asyncio.run(scenario())
    else:
        with pytest.raises(type(error)):
            asyncio.run(scenario())
    assert _notes(engine) == (["written"] if committed else [])
    assert sent == ([[MESSAGE]] if committed else [])


"""The unit of work: the one owner of a transaction around core code.

Core operations never commit. Whoever runs them (each door, the scheduler, the CLI) does it
through `unit_of_work` (a sync Session) or its async twin `async_unit_of_work` (an AsyncSession):
the session is opened; the work is committed when it returns and rolled back when it raises,
unless the error says `keep_changes` (then it is committed and still raised); the session is
closed; only then are the Slack/email messages the committed work queued (src.core.outbox)
handed to `send`. Rolled-back work sends nothing.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from src.config import Settings
from src.core import outbox
from src.core.errors import CoreError
from src.database.engines import create_sync_engine_from_settings, make_session_factory

log = logging.getLogger(__name__)

Messages = list[outbox.SlackMessage | outbox.EmailMessage]
Send = Callable[[Messages], object]
AsyncSend = Callable[[Messages], Awaitable[object]]


def keeps_changes(error: BaseException | None) -> bool:
    """Whether work that ended with `error` (None: it returned) is committed."""
    return error is None or (isinstance(error, CoreError) and error.keep_changes)


def _end(session: Session, error: BaseException | None) -> Messages:
    """Commit or roll back; the messages to send (none when rolled back or the commit failed)."""
    messages = outbox.take(session)
    if keeps_changes(error):
        session.commit()
        return messages
    session.rollback()
    return []


def _unsent(messages: Messages) -> None:
    # An owner without a sender (the CLI) runs no operation that queues messages; say so if one does.
    log.warning("%d queued message(s) dropped: this unit of work has no sender", len(messages))


@contextmanager
def unit_of_work(open_session: Callable[[], Session], send: Send | None = None) -> Iterator[Session]:
    """A session whose work is committed (or rolled back) and closed at the end of the block."""
    session = open_session()
    try:
        try:
            yield session
        except BaseException as error:
            kept = _end(session, error)
            session.close()
            if kept:
                (send or _unsent)(kept)
            raise
        messages = _end(session, None)
    finally:
        session.close()
    if messages:
        (send or _unsent)(messages)


@contextmanager
def command_unit_of_work(settings: Settings) -> Iterator[Session]:
    """A unit of work on an engine of its own, disposed after it: one-off commands (CLI, phase switch)."""
    engine = create_sync_engine_from_settings(settings)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            yield session
    finally:
        engine.dispose()


@asynccontextmanager
async def async_unit_of_work(
    open_session: Callable[[], AsyncSession], send: AsyncSend | None = None
) -> AsyncIterator[AsyncSession]:
    """The async twin of `unit_of_work`: the block runs core code through `session.run_sync`."""
    session = open_session()
    try:
        try:
            yield session
        except BaseException as error:
            kept = await _end_async(session, error)
            await session.close()
            if kept:
                await _send_async(send, kept)
            raise
        messages = await _end_async(session, None)
    finally:
        await session.close()
    if messages:
        await _send_async(send, messages)


async def _end_async(session: AsyncSession, error: BaseException | None) -> Messages:
    messages = outbox.take(session.sync_session)
    if keeps_changes(error):
        await session.commit()
        return messages
    await session.rollback()
    return []


async def _send_async(send: AsyncSend | None, messages: Messages) -> None:
    if send is None:
        _unsent(messages)
    else:
        await send(messages)

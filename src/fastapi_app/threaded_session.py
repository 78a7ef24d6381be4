"""The request's database session: a sync Session whose work runs in a worker thread.

Routes call `await session.run_sync(op)` as SQLAlchemy's AsyncSession would have them do, but
`op` runs whole in one worker thread on the sync driver (sqlite3, psycopg) instead of hopping
between the event loop and the async driver for every statement. Measured on the seeded bench
database (docs/PERFORMANCE.md): the greenlet bridge with aiosqlite cost about a millisecond of CPU
per request more than this, on the same core operations. The event loop never blocks on the
database either way.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from anyio import CancelScope, CapacityLimiter, Semaphore, to_thread
from sqlalchemy.orm import Session, sessionmaker

T = TypeVar("T")


class ThreadedSession:
    """One request's Session; its calls run one after another, each in a worker thread.

    The session takes a slot with its first statement (when it checks out a connection) and
    gives it back when its transaction ends (commit, rollback, finish), so a route that ends
    its transaction before slow outbound I/O (test-run, execute) holds neither meanwhile.
    """

    def __init__(self, session: Session, limiter: CapacityLimiter, slots: Semaphore) -> None:
        self.sync_session = session
        self._limiter = limiter
        self._slots = slots
        self._holding_slot = False

    async def run_sync(self, operation: Callable[..., T], *args: Any) -> T:
        """`operation(session, *args)` in a worker thread; the loop serves other requests meanwhile."""
        await self._take_slot()
        return await to_thread.run_sync(partial(operation, self.sync_session, *args), limiter=self._limiter)

    async def commit(self) -> None:
        await self._end_transaction(self.sync_session.commit)

    async def rollback(self) -> None:
        await self._end_transaction(self.sync_session.rollback)

    async def finish(self, *, commit: bool) -> None:
        """Commit (or roll back) and close in one thread hop; closed even when the commit fails."""

        def end() -> None:
            try:
                if commit:
                    self.sync_session.commit()
                else:
                    self.sync_session.rollback()
            finally:
                self.sync_session.close()

        await self._end_transaction(end)

    async def _take_slot(self) -> None:
        if not self._holding_slot:
            await self._slots.acquire()
            self._holding_slot = True

    async def _end_transaction(self, end: Callable[[], None]) -> None:
        # Shielded: a cancelled request still returns its connection and its slot.
        try:
            with CancelScope(shield=True):
                if self._holding_slot:
                    await to_thread.run_sync(end, limiter=self._limiter)
                else:
                    end()  # nothing was checked out: no database round trip to wait for
        finally:
            if self._holding_slot:
                self._holding_slot = False
                self._slots.release()


class ThreadedSessionFactory:
    """Opens ThreadedSessions: at most `sessions` hold a connection at once, on as many threads.

    A Session keeps its pooled connection from its first statement to the end of its
    transaction. Were more sessions to hold one than the pool has, the threads could all wait
    for connections held by sessions that wait for a thread to end them (seen: every request
    stuck for the 30 s pool timeout at 50 connections). So `sessions` stays below the pool size,
    and a request past it waits on the event loop, holding nothing.
    """

    def __init__(self, factory: sessionmaker[Session], sessions: int) -> None:
        self._factory = factory
        self._limiter = CapacityLimiter(sessions)
        self._slots = Semaphore(sessions)

    def __call__(self) -> ThreadedSession:
        return ThreadedSession(self._factory(), self._limiter, self._slots)

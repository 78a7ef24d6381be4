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

from anyio import CapacityLimiter, to_thread
from sqlalchemy.orm import Session, sessionmaker

T = TypeVar("T")


class ThreadedSession:
    """One request's Session; its calls run one after another, each in a worker thread."""

    def __init__(self, session: Session, limiter: CapacityLimiter) -> None:
        self.sync_session = session
        self._limiter = limiter

    async def run_sync(self, operation: Callable[..., T], *args: Any) -> T:
        """`operation(session, *args)` in a worker thread; the loop serves other requests meanwhile."""
        return await to_thread.run_sync(partial(operation, self.sync_session, *args), limiter=self._limiter)

    async def commit(self) -> None:
        await to_thread.run_sync(self.sync_session.commit, limiter=self._limiter)

    async def rollback(self) -> None:
        await to_thread.run_sync(self.sync_session.rollback, limiter=self._limiter)

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

        await to_thread.run_sync(end, limiter=self._limiter)


class ThreadedSessionFactory:
    """Opens ThreadedSessions; at most `threads` requests touch the database at once."""

    def __init__(self, factory: sessionmaker[Session], threads: int) -> None:
        self._factory = factory
        self._limiter = CapacityLimiter(threads)

    def __call__(self) -> ThreadedSession:
        return ThreadedSession(self._factory(), self._limiter)

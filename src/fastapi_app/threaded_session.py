"""The request's database session: a sync Session whose work runs in a worker thread.

Routes call `await session.run_sync(op)` as SQLAlchemy's AsyncSession would have them do, but
`op` runs whole in one worker thread on the sync driver (sqlite3, psycopg) instead of hopping
between the event loop and the async driver for every statement. Measured on the seeded bench
database (docs/PERFORMANCE.md): the greenlet bridge with aiosqlite cost about a millisecond of CPU
per request more than this, on the same core operations. The event loop never blocks on the
database either way.

Each hop to a thread costs CPU of its own (a queue hand-off, a wake-up of the loop, two GIL
switches: ~0.25 ms measured on `/auth/me`), so hops are few: a plain executor instead of anyio's
per-call limiter bookkeeping, and reads end their transaction in the hop that ran them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from src.core.errors import CoreError

T = TypeVar("T")


async def _in_thread(executor: ThreadPoolExecutor, call: Callable[[], T]) -> T:
    """`call()` on one of the executor's threads; a cancelled caller still waits for it to end.

    The thread goes on using the request's Session whatever happens to the awaiting task, so
    nothing else may touch that Session (or its slot) before the call has returned.
    """
    future = asyncio.get_running_loop().run_in_executor(executor, call)
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        while not future.done():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait([future])
        raise


def run_in_transaction(session: Session, operation: Callable[[], T]) -> T:
    """`operation()`, then commit; roll back when it raises, unless the error keeps its changes."""
    try:
        result = operation()
    except CoreError as error:
        if error.keep_changes:
            session.commit()
        else:
            session.rollback()
        raise
    except BaseException:
        session.rollback()
        raise
    session.commit()
    return result


class ThreadedSession:
    """One request's Session; its calls run one after another, each in a worker thread.

    The session takes a slot with its first statement (when it checks out a connection) and
    gives it back when its transaction ends (commit, rollback, finish), so a route that ends
    its transaction before slow outbound I/O (test-run, execute) holds neither meanwhile.

    With `commit_each_operation` (reads: GET and HEAD), each `run_sync` commits in its own hop
    (rolls back when it raises) and gives its connection back at once: a read costs one hop
    instead of two, and `finish` has nothing left to wait for. A read that creates a default
    row (preferences, Slack settings) keeps it as soon as its operation succeeded.
    """

    def __init__(self, session: Session, executor: ThreadPoolExecutor, slots: asyncio.Semaphore,
                 *, commit_each_operation: bool = False, loop_reads: sessionmaker[Session] | None = None) -> None:
        self.sync_session = session
        self._executor = executor
        self._slots = slots
        self._holding_slot = False
        self._commit_each_operation = commit_each_operation
        self._loop_reads = loop_reads

    async def run_lookup(self, operation: Callable[[Session], T]) -> T:
        """A primary-key read whose objects the request uses detached (authentication).

        On SQLite it runs on the event loop itself, on a connection only the loop uses: in WAL
        mode a read never waits for a writer, and the lookup (~0.1 ms) costs less than the
        hand-off to a thread and back (~0.3 ms of CPU measured). Its objects are detached: a
        write that changes the user it belongs to loads that user in its own session (as
        `users.update_user` does), the models have no relationships to lazy-load. On
        PostgreSQL it runs in a thread in the request's session, like any operation.
        """
        if self._loop_reads is None:
            return await self.run_sync(operation)
        with self._loop_reads() as session:  # closing detaches the objects, loaded as they are
            result = operation(session)
        # Yield once: a request that never awaits runs whole in one loop step, and at saturation
        # (bench, /auth/me) nginx then saw a p99 near 1 s while the app's own durations stayed
        # under 7 ms; yielding here halved that tail. Its cause is not found yet (PERFORMANCE.md).
        await asyncio.sleep(0)
        return result

    async def run_sync(self, operation: Callable[..., T], *args: Any) -> T:
        """`operation(session, *args)` in a worker thread; the loop serves other requests meanwhile."""
        if self._commit_each_operation:
            return await self.run_and_commit(operation, *args)
        await self._take_slot()
        return await _in_thread(self._executor, partial(operation, self.sync_session, *args))

    async def run_and_commit(self, operation: Callable[..., T], *args: Any) -> T:
        """The request's last database work: committed in the hop that ran it.

        Rolled back when it raises (committed if the error keeps its changes), as the route
        would have. A write holds SQLite's one write lock no longer than its own work, instead
        of until a later hop gets a thread: concurrent writers wait less.
        """
        await self._take_slot()
        try:
            return await _in_thread(self._executor, partial(self._committed, operation, args))
        finally:
            self._give_slot_back()

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

    def _committed(self, operation: Callable[..., T], args: tuple[Any, ...]) -> T:
        return run_in_transaction(self.sync_session, partial(operation, self.sync_session, *args))

    async def _take_slot(self) -> None:
        if not self._holding_slot:
            await self._slots.acquire()
            self._holding_slot = True

    def _give_slot_back(self) -> None:
        if self._holding_slot:
            self._holding_slot = False
            self._slots.release()

    async def _end_transaction(self, end: Callable[[], None]) -> None:
        # A cancelled request still returns its connection and its slot (_in_thread waits).
        try:
            if self._holding_slot:
                await _in_thread(self._executor, end)
            else:
                end()  # nothing was checked out: no database round trip to wait for
        finally:
            self._give_slot_back()


class ThreadedSessionFactory:
    """Opens ThreadedSessions: at most `sessions` hold a connection at once, on as many threads.

    A Session keeps its pooled connection from its first statement to the end of its
    transaction. Were more sessions to hold one than the pool has, the threads could all wait
    for connections held by sessions that wait for a thread to end them (seen: every request
    stuck for the 30 s pool timeout at 50 connections). So `sessions` stays below the pool size,
    and a request past it waits on the event loop, holding nothing.
    """

    def __init__(self, factory: sessionmaker[Session], sessions: int,
                 loop_reads: sessionmaker[Session] | None = None) -> None:
        self._factory = factory
        self._loop_reads = loop_reads
        self._executor = ThreadPoolExecutor(max_workers=sessions, thread_name_prefix="request-db")
        self._slots = asyncio.Semaphore(sessions)

    def __call__(self, *, commit_each_operation: bool = False) -> ThreadedSession:
        return ThreadedSession(self._factory(), self._executor, self._slots,
                               commit_each_operation=commit_each_operation, loop_reads=self._loop_reads)

    def close(self) -> None:
        """Let the threads end once their calls have (at shutdown)."""
        self._executor.shutdown(wait=False)

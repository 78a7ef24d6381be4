"""The FastAPI door's one way to run core code: `await session.run_sync(operation)`.

Each call is a unit of work of its own (src.core.unit_of_work), run whole in one worker thread on
the sync driver (sqlite3, psycopg): opened, committed (rolled back when it raises, unless the
error keeps its changes), closed and its connection given back in the hop that ran it; the
Slack/email messages it queued are then sent in the background. Nothing is left to end after the
handler, so a route that calls out slowly after its database work (manual run, test run) holds
no connection meanwhile, and a write holds SQLite's one write lock no longer than its own work.

Running the operation whole in a thread instead of SQLAlchemy's AsyncSession (greenlet bridge,
a hop per statement) is cheaper per request (docs/PERFORMANCE.md); each hop still costs CPU of
its own (a queue hand-off, a wake-up of the loop, two GIL switches), so a plain executor carries
them, without anyio's per-call limiter bookkeeping.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from src.core.unit_of_work import Messages, unit_of_work
from src.fastapi_app.grouped_writes import GroupedWrites
from src.integrations.delivery import deliver
from src.scheduler.services import ExecutionServices

T = TypeVar("T")
_background: set[asyncio.Task[Any]] = set()


def sender_in_background(services: ExecutionServices) -> Callable[[Messages], None]:
    """Sends committed work's messages in a task of their own, so the response does not wait."""

    def send(messages: Messages) -> None:
        task = asyncio.create_task(deliver(services, messages))
        _background.add(task)  # referenced until done, or the loop could collect it
        task.add_done_callback(_background.discard)

    return send


async def _in_thread(executor: ThreadPoolExecutor, call: Callable[[], T]) -> T:
    """`call()` on one of the executor's threads; a cancelled caller still waits for it to end.

    The thread goes on using its Session whatever happens to the awaiting task, so the slot it
    holds is given back only once the call has returned.
    """
    future = asyncio.get_running_loop().run_in_executor(executor, call)
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        while not future.done():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait([future])
        raise


class ThreadedUnitOfWork:
    """Runs units of work on at most `sessions` threads, each holding one pooled connection.

    A Session keeps its pooled connection from its first statement to the end of its
    transaction. Were more sessions to hold one than the pool has, the threads could all wait
    for connections held by sessions that wait for a thread to end them (seen: every request
    stuck for the 30 s pool timeout at 50 connections). So `sessions` stays below the pool size,
    and a request past it waits on the event loop, holding nothing.
    """

    def __init__(self, factory: sessionmaker[Session], sessions: int, send: Callable[[Messages], None],
                 loop_reads: sessionmaker[Session] | None = None, grouped: GroupedWrites | None = None) -> None:
        """`send` gets, on the loop, the messages a committed unit queued; `loop_reads`: see `lookup`;
        `grouped`: see `run_write`."""
        self._factory = factory
        self._send = send
        self._loop_reads = loop_reads
        self._grouped = grouped
        self._executor = ThreadPoolExecutor(max_workers=sessions, thread_name_prefix="request-db")
        self._slots = asyncio.Semaphore(sessions)

    async def run_sync(self, operation: Callable[..., T], *args: Any) -> T:
        """`operation(session, *args)` in a unit of work of its own, in a worker thread."""
        queued: Messages = []
        await self._slots.acquire()
        try:
            return await _in_thread(self._executor, partial(self._unit, queued, operation, args))
        finally:
            self._slots.release()
            if queued:
                self._send(queued)

    async def run_write(self, operation: Callable[..., T], *args: Any) -> T:
        """A unit of work that writes: on SQLite committed together with the writes queued beside it
        (src/fastapi_app/grouped_writes.py), elsewhere as `run_sync`."""
        if self._grouped is None:
            return await self.run_sync(operation, *args)
        result: T = await self._grouped.run(operation, *args)
        return result

    def _unit(self, queued: Messages, operation: Callable[..., T], args: tuple[Any, ...]) -> T:
        with unit_of_work(self._factory, queued.extend) as session:
            return operation(session, *args)

    async def lookup(self, operation: Callable[[Session], T]) -> T:
        """Authentication's primary-key read, whose objects the request uses detached.

        Not for routes (they use `run_sync`). On SQLite it runs on the event loop itself, on a
        connection only the loop uses: in WAL mode a read never waits for a writer, and the
        lookup costs less than the hand-off to a thread and back (docs/PERFORMANCE.md). A write that changes
        the user it belongs to loads that user in its own session (as `users.update_user` does);
        the models have no relationships to lazy-load. On PostgreSQL it is a `run_sync`.
        """
        if self._loop_reads is None:
            return await self.run_sync(operation)
        with unit_of_work(self._loop_reads, self._send) as session:  # closed: objects detached, loaded
            result = operation(session)
        # Yield once: a request that never awaits runs whole in one loop step, and at saturation
        # (bench, /auth/me) nginx then saw a far longer tail than the app's own durations;
        # yielding here halved it (docs/PERFORMANCE.md).
        await asyncio.sleep(0)
        return result

    def close(self) -> None:
        """Let the threads end once their calls have (at shutdown)."""
        self._executor.shutdown(wait=False)
        if self._grouped is not None:
            self._grouped.close()

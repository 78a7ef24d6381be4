"""Writes on SQLite committed in groups: the writes a worker receives while one commits go in the next.

SQLite has one write lock. A write committed alone takes it, copies every page it touched to the
WAL (a job create: ~110 pages, its 20 notification rows spread over five indexes), and gives it
up; the writers queued behind it wait in SQLite's busy handler, which sleeps in growing steps and
so leaves the lock idle between them. Here a worker's writes go to one thread: while it writes a
group, the writes arriving queue up, and the next group runs them one after another in one
transaction (`BEGIN IMMEDIATE`), each in a savepoint of its own, then commits once. Pages that
several writes touch (the same users' index pages) go to the WAL once per group.

What each caller sees is what its own unit of work would have given (src.core.unit_of_work): its
result or its error, its changes committed only when it returned (or its error keeps them), and a
write that fails rolled back to its savepoint alone. Every answer waits for the group's commit, so
a 2xx still means committed, and the messages a write queued are sent after that commit. Should
the group fail as a whole (its commit, or an error other than the core's, which may have broken the
transaction), nothing of it was committed, and each of its writes runs again in a unit of work of
its own, with the outcome it would have had alone.

Each worker has such a thread. Between workers SQLite's busy handler would decide who writes
next, and a worker starting its next group at once always beat one sleeping in it (seen: job
update p99 2.3 s where the p50 was 0.1 s). So the threads also take an `flock` on a file beside the
database for each transaction; the kernel wakes a waiting worker as soon as it is released. (The
scheduler group-commits its runs' steps the same way: src/scheduler/execution_steps.py.)
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from src.core import outbox
from src.core.errors import CoreError
from src.core.unit_of_work import Messages, unit_of_work

# A group's writes answer together: a bound keeps the first one's wait for the last one short.
MAX_GROUP = 32


@dataclass
class _Write:
    operation: Callable[..., Any]
    args: tuple[Any, ...]
    future: asyncio.Future[Any]


@dataclass
class _Outcome:
    result: Any = None
    error: BaseException | None = None
    messages: Messages = field(default_factory=list)


class _GroupFailed(Exception):
    """A write failed with something that may have broken the group's transaction."""


class GroupedWrites:
    """Runs `operation(session, *args)` units of work on one thread, committed in groups (SQLite)."""

    def __init__(self, factory: sessionmaker[Session], send: Callable[[Messages], None],
                 lock_path: Path | None) -> None:
        """`send` gets, on the loop, the messages each committed write queued; `lock_path`: the file
        the workers' writer threads take turns on (None: this process is the only writer)."""
        self._factory = factory
        self._send = send
        self._lock_fd = None if lock_path is None else os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="grouped-writes")
        self._queue: list[_Write] = []
        self._writer: asyncio.Task[None] | None = None

    async def run(self, operation: Callable[..., Any], *args: Any) -> Any:
        """The write's result once its group is committed; its error as its own unit of work raises it."""
        write = _Write(operation, args, asyncio.get_running_loop().create_future())
        self._queue.append(write)
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_groups(), name="grouped-writes")
        try:
            return await asyncio.shield(write.future)
        except asyncio.CancelledError:
            # A caller that went away still has its write in a group: it ends as the group does.
            while not write.future.done():
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait([write.future])
            raise

    async def _write_groups(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._queue:
                group, self._queue = self._queue[:MAX_GROUP], self._queue[MAX_GROUP:]
                try:
                    outcomes = await loop.run_in_executor(self._executor, self._write_group, group)
                except BaseException as error:  # noqa: BLE001 - every caller must get an answer
                    outcomes = [_Outcome(error=error) for _ in group]
                for write, outcome in zip(group, outcomes, strict=True):
                    if outcome.messages:
                        self._send(outcome.messages)
                    if outcome.error is not None:
                        write.future.set_exception(outcome.error)
                    else:
                        write.future.set_result(outcome.result)
        finally:
            self._writer = None

    def _write_group(self, group: list[_Write]) -> list[_Outcome]:
        with self._turn():
            if len(group) > 1:
                try:
                    return self._together(group)
                except Exception:  # noqa: BLE001 - nothing was committed: each write runs alone
                    pass
            return [self._alone(write) for write in group]

    @contextlib.contextmanager
    def _turn(self) -> Iterator[None]:
        """This worker's turn to write, among the workers' writer threads."""
        if self._lock_fd is None:
            yield
            return
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def _together(self, group: list[_Write]) -> list[_Outcome]:
        session = self._factory()
        try:
            # The lock first: every write of the group then reads and writes one snapshot.
            session.connection().exec_driver_sql("BEGIN IMMEDIATE")
            outcomes = [self._in_savepoint(session, write) for write in group]
            session.commit()
            return outcomes
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @staticmethod
    def _in_savepoint(session: Session, write: _Write) -> _Outcome:
        savepoint = session.begin_nested()
        try:
            result = write.operation(session, *write.args)
            savepoint.commit()
        except CoreError as error:
            if error.keep_changes:
                savepoint.commit()
                return _Outcome(error=error, messages=outbox.take(session))
            savepoint.rollback()
            outbox.discard(session)
            return _Outcome(error=error)
        except Exception as error:
            raise _GroupFailed from error
        finally:
            # The next write starts from the database, as in a session of its own.
            session.expunge_all()
        return _Outcome(result=result, messages=outbox.take(session))

    def _alone(self, write: _Write) -> _Outcome:
        messages: Messages = []
        try:
            with unit_of_work(self._factory, messages.extend) as session:
                result = write.operation(session, *write.args)
        except Exception as error:  # noqa: BLE001 - handed to its caller
            return _Outcome(error=error, messages=messages)
        return _Outcome(result=result, messages=messages)

    def close(self) -> None:
        """Let the thread end once its group has (at shutdown); the lock file's descriptor with it."""
        self._executor.shutdown(wait=True)
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

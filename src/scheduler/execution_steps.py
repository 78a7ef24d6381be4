"""A run's database steps (begin, finish, announce), each in a transaction of its own or group-committed.

The scheduler group-commits: when many jobs fire at the same second, each run's three steps (begin, finish, announce)
used to be three transactions of its own, thousands of round trips queued on one event loop (and, on
SQLite, on one write lock). Here a step submitted while its kind's transaction runs waits for
the next one, which takes everything waiting: one transaction per step and batch, as few as one
when runs come one at a time. If a batch fails (e.g. a fire another scheduler already took),
each of its items is retried alone, so one item's failure stays its own.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from sqlalchemy.orm import Session

from src.core import execution_records
from src.core.execution_records import ExecutionOutcome, ExecutionRequest, StartedExecution
from src.scheduler.services import ExecutionServices

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")

# Items in one transaction at most: bounds how long one transaction holds the write lock.
MAX_BATCH = 200
# A deferrable step waits at most this long for the dispatches to be over, then goes ahead: a
# row shows its outcome at most this late even under a steady stream of fires.
MAX_DEFER_SECONDS = 30.0
DEFER_POLL_SECONDS = 0.05


class GroupCommit(Generic[Item, Result]):
    """Runs `batch_step(session, items)` in one transaction for the items submitted meanwhile."""

    def __init__(self, services: ExecutionServices, name: str,
                 batch_step: Callable[[Session, list[Item]], list[Result]],
                 defer_while: Callable[[], bool] | None = None) -> None:
        self.services = services
        self.name = name
        self.batch_step = batch_step
        # While this says so (fires still to dispatch), batches wait: up to MAX_DEFER_SECONDS.
        self.defer_while = defer_while
        self._waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        self._worker: asyncio.Task[None] | None = None

    async def submit(self, item: Item) -> Result:
        """The step's result for `item`, once the transaction holding it committed; or its error."""
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._work(), name=f"group-commit-{self.name}")
        return await future

    async def _work(self) -> None:
        while self._waiting:
            await self._deferred()
            batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
            items = [item for item, _ in batch]
            try:
                async with self.services.unit_of_work() as session:
                    results = await session.run_sync(self.batch_step, items)
            except Exception:  # noqa: BLE001 - each item then learns its own outcome
                if len(batch) > 1:
                    log.info("%s batch of %d failed; retrying its items one by one", self.name, len(batch))
                for item, future in batch:
                    await self._alone(item, future)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)

    async def _deferred(self) -> None:
        if self.defer_while is None:
            return
        deadline = time.monotonic() + MAX_DEFER_SECONDS
        while self.defer_while() and time.monotonic() < deadline:
            await asyncio.sleep(DEFER_POLL_SECONDS)

    async def _alone(self, item: Item, future: asyncio.Future[Result]) -> None:
        try:
            async with self.services.unit_of_work() as session:
                [result] = await session.run_sync(self.batch_step, [item])
        except Exception as exc:  # noqa: BLE001 - handed to the submitter, which handles it
            if not future.done():
                future.set_exception(exc)
        else:
            if not future.done():
                future.set_result(result)


class OwnTransaction(Generic[Item, Result]):
    """Runs `batch_step(session, [item])` in a transaction of its own for each item."""

    def __init__(self, services: ExecutionServices, name: str,
                 batch_step: Callable[[Session, list[Item]], list[Result]],
                 defer_while: Callable[[], bool] | None = None) -> None:  # noqa: ARG002 - a run of its own never waits
        self.services = services
        self.name = name
        self.batch_step = batch_step

    async def submit(self, item: Item) -> Result:
        async with self.services.unit_of_work() as session:
            [result] = await session.run_sync(self.batch_step, [item])
        return result


class ExecutionSteps:
    """The three database steps of runs; `grouped`: each shares its transactions with other runs'."""

    def __init__(
        self, services: ExecutionServices, *, grouped: bool, defer_while: Callable[[], bool] | None = None
    ) -> None:
        """`defer_while`: finishing and announcing wait while it is true (grouped steps only)."""
        settings = services.settings
        kind = GroupCommit if grouped else OwnTransaction

        def begin(session: Session, requests: list[ExecutionRequest]) -> list[StartedExecution | None]:
            return execution_records.begin_executions(session, settings, requests)

        def announce(session: Session, execution_ids: list[str]) -> list[None]:
            execution_records.announce_executions(session, settings, execution_ids)
            return [None] * len(execution_ids)

        self.begin: (GroupCommit[ExecutionRequest, StartedExecution | None]
                     | OwnTransaction[ExecutionRequest, StartedExecution | None]) = kind(services, "begin", begin)
        self.finish: GroupCommit[ExecutionOutcome, bool] | OwnTransaction[ExecutionOutcome, bool] = \
            kind(services, "finish", execution_records.finish_executions, defer_while)
        self.announce: GroupCommit[str, None] | OwnTransaction[str, None] = \
            kind(services, "announce", announce, defer_while)

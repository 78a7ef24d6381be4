"""APScheduler's coroutine executor, except that the job function also gets its fire's scheduled time."""

from __future__ import annotations

import asyncio
import logging
import sys
from datetime import UTC, datetime, timedelta
from traceback import format_tb
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.asyncio import AsyncIOExecutor


class FireExecutor(AsyncIOExecutor):  # type: ignore[misc]  # APScheduler ships no types
    """Like AsyncIOExecutor, but the job function receives `scheduled_for=<fire time>`.

    The misfire check and the events are APScheduler's own (copied from `run_coroutine_job`);
    in-flight tasks are tracked so a clean stop can let them finish instead of cancelling them.
    """

    def start(self, scheduler: Any, alias: str) -> None:
        super().start(scheduler, alias)
        self.in_flight: set[asyncio.Future[Any]] = set()

    def shutdown(self, wait: bool = True) -> None:  # noqa: ARG002 - the runtime drains in-flight runs
        self._pending_futures.clear()

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        def done(future: asyncio.Future[Any]) -> None:
            self.in_flight.discard(future)
            try:
                events = future.result()
            except BaseException:  # noqa: BLE001 - includes cancellation at shutdown
                self._run_job_error(job.id, *sys.exc_info()[1:])
            else:
                self._run_job_success(job.id, events)

        task = self._eventloop.create_task(_run_fires(job, job._jobstore_alias, run_times, self._logger))
        task.add_done_callback(done)
        self.in_flight.add(task)


async def _run_fires(job: Any, jobstore_alias: str, run_times: list[datetime], logger: logging.Logger) -> list[Any]:
    events: list[Any] = []
    for run_time in run_times:
        if job.misfire_grace_time is not None:
            late = datetime.now(UTC) - run_time
            if late > timedelta(seconds=job.misfire_grace_time):
                events.append(JobExecutionEvent(EVENT_JOB_MISSED, job.id, jobstore_alias, run_time))
                logger.warning('Run time of job "%s" was missed by %s', job, late)
                continue
        try:
            result = await job.func(*job.args, scheduled_for=run_time, **job.kwargs)
        except Exception:  # noqa: BLE001 - reported as an APScheduler error event
            exc, tb = sys.exc_info()[1:]
            events.append(JobExecutionEvent(EVENT_JOB_ERROR, job.id, jobstore_alias, run_time,
                                            exception=exc, traceback="".join(format_tb(tb))))
            logger.exception('Job "%s" raised an exception', job)
        else:
            events.append(JobExecutionEvent(EVENT_JOB_EXECUTED, job.id, jobstore_alias, run_time, retval=result))
    return events

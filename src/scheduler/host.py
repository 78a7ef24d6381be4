"""Hosting the scheduler in a process: compete for the lease, run APScheduler while leader.

`SCHEDULER_HOST` names the process kind that competes (`flask` in the side-by-side phase,
`fastapi` after cutover, `none` for tests and API-only replicas: their host is inert). Once the
operator sets a deployment phase (`python -m src.cli phase ...`, a database row), the phase names
the kind instead: every host re-reads it at each heartbeat, competes only when it names its own
kind, and a leader of the other kind steps down and releases the lease so the right kind takes
over within one heartbeat (the lease and the fire-once key keep every fire single). The host runs
on the event loop of its process (the Flask runtime's background loop, or the FastAPI lifespan's
loop); it never touches a web framework.

Two background tasks while enabled:
- heartbeat, every lease/3 s: read the phase; acquire or renew the lease; on winning start the runtime (close
  interrupted runs, maintenance job, full reconciliation incl. missed fires); on losing stop
  firing at once (in-flight runs finish in the background);
- sync, every SCHEDULER_SYNC_SECONDS while leader: incremental reconciliation;
- late watch, every LATE_CHECK_SECONDS whether leader or not: late-run alerts (contract 8.12),
  so a fire no scheduler ran is still reported.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime
from typing import Any, Literal

from src.core.late_runs import raise_late_alerts
from src.core.phases import read_phase, scheduler_kind
from src.core.scheduler_status import NOT_RUNNING, SchedulerProcessState
from src.database.engines import create_async_engine_from_settings
from src.scheduler.lease import Lease
from src.scheduler.runtime import ResyncResult, SchedulerRuntime
from src.scheduler.services import ExecutionServices

log = logging.getLogger(__name__)

HostKind = Literal["flask", "fastapi"]
LATE_CHECK_SECONDS = 30.0


class NotLeader(RuntimeError):
    """This process is not running the scheduler as leader (POST /scheduler/resync → 409)."""


class SchedulerHost:
    """One process's scheduler: lease elector, APScheduler runtime, sync loop."""

    def __init__(self, services: ExecutionServices, kind: str, *, owner_id: str | None = None,
                 **runtime_options: Any) -> None:
        settings = services.settings
        self.services = services
        self.kind = kind
        # Enabled: may ever compete (SCHEDULER_HOST is not `none`); competing: the phase (or,
        # before any phase was set, SCHEDULER_HOST) names this kind right now.
        self.enabled = scheduler_kind(None, settings.SCHEDULER_HOST) != "none"
        self.competing = scheduler_kind(None, settings.SCHEDULER_HOST) == kind
        # The lease has its own one-connection engine: a burst of runs holding every pooled
        # connection must never delay the heartbeat past the lease.
        self._lease_engine = create_async_engine_from_settings(settings, pool_size=1, max_overflow=1)
        self.lease = Lease(self._lease_engine, settings.SCHEDULER_LEASE_SECONDS, owner_id)
        self.runtime = SchedulerRuntime(services, lease_valid=self.lease.held, **runtime_options)
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping: set[asyncio.Task[None]] = set()
        self.became_leader = asyncio.Event()
        # Read at each scrape of /metrics, so it is never staler than the lease itself.
        services.metrics.track_lease_holder(kind, lambda: self.is_leader)

    # --- state -----------------------------------------------------------------------------

    @property
    def is_leader(self) -> bool:
        """Leading and started (first reconciliation done), with a lease we still trust."""
        return self.became_leader.is_set() and self.runtime.running and self.lease.held()

    def process_state(self) -> SchedulerProcessState:
        """What /health and /scheduler/status report for this process."""
        if not self.enabled:
            return NOT_RUNNING
        running = self.is_leader
        return SchedulerProcessState(
            running=running,
            is_leader=running,
            scheduled_jobs_count=self.runtime.scheduled_jobs_count() if running else 0,
            last_resync_at=self.runtime.last_resync_at,
        )

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Begin competing for the lease (call on the host loop); no-op when not enabled."""
        if not self.enabled or self._tasks:
            return
        self._tasks = [
            asyncio.create_task(self._heartbeat(), name="scheduler-heartbeat"),
            asyncio.create_task(self._sync_loop(), name="scheduler-sync"),
            asyncio.create_task(self._late_watch(), name="scheduler-late-watch"),
        ]

    async def stop(self) -> None:
        """Clean shutdown: stop competing, let in-flight runs finish (bounded), release the lease."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        was_leader = self.runtime.running
        await self.runtime.stop()
        for task in list(self._stopping):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.enabled and (was_leader or self.lease.held()):
            await self.lease.release()
        self.became_leader.clear()
        self.services.metrics.refresh()
        await self._lease_engine.dispose()

    async def resync(self) -> ResyncResult:
        """One full reconciliation now, only where the scheduler runs as leader."""
        if not self.is_leader:
            raise NotLeader("Scheduler is not running as leader in this process.")
        return await self.runtime.full_reconcile()

    # --- background tasks ------------------------------------------------------------------

    async def _follow_phase(self) -> bool:
        """Re-read the deployment phase; on a database hiccup keep the last answer."""
        try:
            async with self._lease_engine.connect() as connection:
                phase = await connection.run_sync(read_phase)
        except Exception:  # noqa: BLE001 - the lease logic handles an unreachable database
            return self.competing
        competing = scheduler_kind(phase, self.services.settings.SCHEDULER_HOST) == self.kind
        if competing != self.competing:
            log.info("deployment phase %s: the %s host %s", phase, self.kind,
                     "competes for the scheduler lease" if competing else "steps aside")
        self.competing = competing
        return competing

    async def _heartbeat(self) -> None:
        while True:
            if not await self._follow_phase():
                if self.runtime.running or self.lease.held():
                    # The phase moved the scheduler to the other kind: stop firing, hand over now.
                    self._step_down()
                    await self.lease.release()
                await self._pause()
                continue
            renewed_before = self.lease.last_renewed_at
            won = await self.lease.acquire_or_renew()
            if won and self.runtime.running and self.lease.lapsed:
                # We kept the lease but stopped trusting it for a while (fires were refused):
                # restart so those fires follow the misfire rule instead of being lost.
                log.warning("scheduler lease renewal was late; restarting the schedule")
                self.became_leader.clear()
                self._drain_in_background(self.runtime.halt())
                await self._become_leader(covered_until=renewed_before)
            elif won and not self.runtime.running:
                await self._become_leader()
            elif not won and self.runtime.running:
                log.warning("scheduler lease lost by %s: firing stopped", self.lease.owner_id)
                self._step_down()
            await self._pause()

    async def _late_watch(self) -> None:
        settings = self.services.settings
        while True:
            # Sleep first: the host's start (lease, first reconciliation) is not slowed by it.
            await asyncio.sleep(LATE_CHECK_SECONDS)
            try:
                async with self.services.unit_of_work() as session:
                    await session.run_sync(raise_late_alerts, settings)
            except Exception:  # noqa: BLE001 - checked again at the next round
                log.exception("late-run check failed")

    async def _pause(self) -> None:
        # With several gunicorn workers the lease-holder gauge is written, not read at scrape time.
        self.services.metrics.refresh()
        await asyncio.sleep(self.lease.heartbeat_seconds)

    async def _become_leader(self, covered_until: datetime | None = None) -> None:
        log.info("scheduler lease acquired by %s (%s host)", self.lease.owner_id, self.kind)
        # The first reconciliation can outlast the lease on a starved process; renewing meanwhile
        # keeps another process from taking over mid-start, which made the lease bounce between
        # workers and dropped the fires each restart cancelled.
        keep_alive = asyncio.create_task(self._renew_while_starting())
        try:
            result = await self.runtime.start(covered_until=covered_until or self.lease.covered_until())
        except Exception:  # noqa: BLE001 - give the lease back so another process can try
            log.exception("scheduler start failed; releasing the lease")
            await self.runtime.stop(drain_seconds=0)
            await self.lease.release()
            return
        finally:
            keep_alive.cancel()
        log.info("scheduler running: %d job schedules", result.scheduled_now)
        self.became_leader.set()

    async def _renew_while_starting(self) -> None:
        while True:
            await asyncio.sleep(self.lease.heartbeat_seconds)
            if not await self.lease.acquire_or_renew():
                log.warning("scheduler lease lost by %s while starting", self.lease.owner_id)
                return

    def _step_down(self) -> None:
        self.lease.drop()
        self.became_leader.clear()
        self._drain_in_background(self.runtime.halt())

    def _drain_in_background(self, in_flight: set[asyncio.Future[Any]]) -> None:
        # Runs already dispatched finish on their own timeouts; only new fires stop.
        task = asyncio.create_task(self.runtime.drain(in_flight))
        self._stopping.add(task)
        task.add_done_callback(self._stopping.discard)

    async def _sync_loop(self) -> None:
        interval = max(0.05, float(self.services.settings.SCHEDULER_SYNC_SECONDS))
        while True:
            await asyncio.sleep(interval)
            if not self.is_leader:
                continue
            try:
                await self.runtime.sync_changes()
            except Exception:  # noqa: BLE001 - retried at the next interval
                log.exception("scheduler sync failed")


async def start_scheduler_host(services: ExecutionServices, kind: HostKind, **options: Any) -> SchedulerHost:
    """Create this process's host and start competing when `SCHEDULER_HOST` names `kind`.

    Call on the event loop that will run the scheduler (FastAPI lifespan, or the Flask
    runtime's background loop via `asyncio.run_coroutine_threadsafe`).
    """
    host = SchedulerHost(services, kind, **options)
    host.start()
    return host


async def stop_scheduler_host(host: SchedulerHost | None) -> None:
    """Clean shutdown of a host started by `start_scheduler_host` (releases the lease)."""
    if host is not None:
        await host.stop()

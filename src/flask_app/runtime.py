"""Async resources of the Flask process: one event loop on a background thread.

Flask views are sync; the executor and outbound calls are async (one httpx client, the
mailer, an async engine). They live on this loop so a manual run from a Flask view uses the
same code path as a scheduled run.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from typing import TypeVar

from src.config import Settings
from src.core.outbox import EmailMessage, SlackMessage
from src.core.scheduler_status import NOT_RUNNING, SchedulerProcessState
from src.integrations.delivery import deliver
from src.observability.metrics import Metrics
from src.scheduler.host import SchedulerHost, start_scheduler_host, stop_scheduler_host
from src.scheduler.runtime import ResyncResult
from src.scheduler.services import ExecutionServices, close_execution_services, open_execution_services

T = TypeVar("T")


class FlaskRuntime:
    """Starts lazily on first use, so importing or building the app opens nothing."""

    def __init__(self, settings: Settings, metrics: Metrics | None = None) -> None:
        self.settings = settings
        self.metrics = metrics or Metrics()
        # 0 until a scheduler host of this process leads (none starts when SCHEDULER_HOST=none).
        self.metrics.track_lease_holder("flask")
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._services: ExecutionServices | None = None
        self._scheduler_host: SchedulerHost | None = None

    def _start(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="flask-async", daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
                self._services = asyncio.run_coroutine_threadsafe(
                    open_execution_services(self.settings, self.metrics), loop
                ).result()
            return self._loop

    def run(self, work: Callable[[ExecutionServices], Awaitable[T]], timeout: float | None = None) -> T:
        """Run `work(services)` on the loop and wait for its result."""
        loop = self._start()
        assert self._services is not None
        future: Future[T] = asyncio.run_coroutine_threadsafe(work(self._services), loop)  # type: ignore[arg-type]  # work returns an Awaitable; it is always a coroutine
        return future.result(timeout)

    def deliver(self, messages: list[SlackMessage | EmailMessage]) -> None:
        """Send queued Slack/email messages on the loop without holding up the response."""
        loop = self._start()
        services = self._services
        assert services is not None
        asyncio.run_coroutine_threadsafe(deliver(services, messages), loop)

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._start()

    def start_scheduler(self) -> None:
        """Compete for the scheduler lease on this loop (when SCHEDULER_HOST=flask)."""
        if self._scheduler_host is None:
            self._scheduler_host = self.run(lambda services: start_scheduler_host(services, "flask"))

    @property
    def scheduler_host(self) -> SchedulerHost | None:
        return self._scheduler_host

    def scheduler_state(self) -> SchedulerProcessState:
        """This process's scheduler, for /health and /scheduler/status."""
        host = self._scheduler_host
        return host.process_state() if host is not None else NOT_RUNNING

    def resync_scheduler(self) -> ResyncResult:
        """One full reconciliation on the loop; the caller checked this process leads."""
        host = self._scheduler_host
        assert host is not None
        return self.run(lambda _services: host.resync())

    def close(self) -> None:
        with self._lock:
            loop, services, host = self._loop, self._services, self._scheduler_host
            self._loop = self._services = self._scheduler_host = None
        if loop is None:
            return
        if host is not None:
            # Clean shutdown releases the lease so the next leader starts at once.
            asyncio.run_coroutine_threadsafe(stop_scheduler_host(host), loop).result(30)
        if services is not None:
            asyncio.run_coroutine_threadsafe(close_execution_services(services), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(5)

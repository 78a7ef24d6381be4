"""Prometheus series of one process: HTTP requests of each door, scheduler fires, lease, notifications.

Each app factory creates its own `Metrics` (its own registry, never prometheus_client's global
one: tests build many apps in one process) and hands it down to the scheduler's `ExecutionServices`,
so whatever runs in that process counts into the registry its `/metrics` serves.

Under gunicorn with several workers (src/deploy/gunicorn_conf.py sets PROMETHEUS_MULTIPROC_DIR)
or uvicorn with several (FASTAPI_WORKERS; src/deploy/supervisor.py sets the variable) the
workers write their values to shared files and `/metrics`, whichever worker answers it, renders
the sum of all of them: one process as Prometheus sees it.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

# The route label of a request no route matched (404s): raw paths would be unbounded.
UNMATCHED_ROUTE = "unmatched"
# The classic text format: every Prometheus version and prometheus_client's parser read it.
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4

# Fire outcomes. success/failed: the run was recorded and its target answered 2xx / did not;
# duplicate: another scheduler already ran this fire; skipped: the job was gone or paused at fire
# time; not_leader: the lease was lost before dispatch; missed: later than the misfire grace time;
# error: the run could not be recorded at all.
FIRE_OUTCOMES = ("success", "failed", "duplicate", "skipped", "not_leader", "missed", "error")
FAILED_FIRE_OUTCOMES = frozenset({"failed", "error"})
NOTIFICATION_CHANNELS = ("slack", "email")

_LAG_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)


class Metrics:
    """The registry `/metrics` renders and the series the doors and the scheduler update."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        registry = self.registry
        # prometheus_client chose its value storage at import from the same variable.
        self.multiprocess = MULTIPROCESS_DIR_VARIABLE in os.environ
        self._lease_holders: dict[str, Callable[[], bool]] = {}
        self.http_requests = Counter(
            "http_requests", "HTTP requests answered, by door, method, route template and status.",
            ["door", "method", "route", "status"], registry=registry,
        )
        self.http_request_duration = Histogram(
            "http_request_duration_seconds", "Time to answer an HTTP request, by door, method and route template.",
            ["door", "method", "route"], registry=registry,
        )
        self.scheduler_fires = Counter(
            "scheduler_fires", "Scheduled fires handled by this process's scheduler, by outcome.",
            ["outcome"], registry=registry,
        )
        self.scheduler_fire_failures = Counter(
            "scheduler_fire_failures", "Scheduled fires whose run failed or could not be recorded.",
            registry=registry,
        )
        self.scheduler_fire_lag = Histogram(
            "scheduler_fire_lag_seconds", "Actual start of a scheduled run minus its scheduled fire time.",
            buckets=_LAG_BUCKETS, registry=registry,
        )
        self.scheduler_lease_holder = Gauge(
            "scheduler_lease_holder", "1 while this process's scheduler host holds the lease and fires, else 0.",
            ["host_kind"], registry=registry, multiprocess_mode="livemax",
        )
        self.notification_delivery_failures = Counter(
            "notification_delivery_failures", "Slack or email notifications that could not be delivered.",
            ["channel"], registry=registry,
        )
        self.shadow_reads = Counter(
            "shadow_reads", "Mirrored /api reads by route template and outcome: matched, mismatched, raced "
            "(a write landed between the replays), error, shed (too many in flight or over the per-second budget), "
            "busy (clients being served).",
            ["route", "outcome"], registry=registry,
        )
        self.read_cache = Counter(
            "read_cache", "FastAPI reads by what the read cache did: hit (answered from memory), miss (worked "
            "out and kept), bypass (worked out, not kept: an error, or a commit meanwhile).",
            ["outcome"], registry=registry,
        )
        # Known label values start at 0, so rate() and alerts see a series before the first event.
        for outcome in FIRE_OUTCOMES:
            self.scheduler_fires.labels(outcome)
        for channel in NOTIFICATION_CHANNELS:
            self.notification_delivery_failures.labels(channel)

    # --- HTTP ----------------------------------------------------------------------------------

    def observe_request(self, door: str, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request; `route` is the matched template or UNMATCHED_ROUTE."""
        self.http_requests.labels(door, method, route, str(status)).inc()
        self.http_request_duration.labels(door, method, route).observe(seconds)

    # --- scheduler -----------------------------------------------------------------------------

    def fire(self, outcome: str) -> None:
        """Count one scheduled fire by outcome (one of FIRE_OUTCOMES)."""
        self.scheduler_fires.labels(outcome).inc()
        if outcome in FAILED_FIRE_OUTCOMES:
            self.scheduler_fire_failures.inc()

    def fire_started(self, lag_seconds: float) -> None:
        """A scheduled run starts `lag_seconds` after its fire time (slot waits included)."""
        self.scheduler_fire_lag.observe(max(0.0, lag_seconds))

    def track_lease_holder(self, host_kind: str, holds: Callable[[], bool] = lambda: False) -> None:
        """Report `holds()` as the lease-holder gauge of `host_kind`: read at each scrape, or with
        several workers at each `refresh()` (a worker cannot call another worker's function)."""
        gauge = self.scheduler_lease_holder.labels(host_kind)
        if self.multiprocess:
            self._lease_holders[host_kind] = holds
            gauge.set(1.0 if holds() else 0.0)
        else:
            gauge.set_function(lambda: 1.0 if holds() else 0.0)

    def refresh(self) -> None:
        """Write the lease-holder values for the other workers (the host calls it at each heartbeat)."""
        for host_kind, holds in self._lease_holders.items():
            self.scheduler_lease_holder.labels(host_kind).set(1.0 if holds() else 0.0)

    def process_exiting(self) -> None:
        """A worker stopping cleanly: its live gauges (the lease holder) leave the sum at once."""
        if self.multiprocess:
            mark_process_dead(os.getpid(), os.environ[MULTIPROCESS_DIR_VARIABLE])

    # --- notifications -------------------------------------------------------------------------

    def notification_failed(self, channel: str) -> None:
        """One Slack or email message that was due but not delivered."""
        self.notification_delivery_failures.labels(channel).inc()

    # --- shadow reads --------------------------------------------------------------------------

    def shadow_read(self, route: str, outcome: str) -> None:
        """Count one mirrored read of `route` (`GET /api/jobs`) by what became of it."""
        self.shadow_reads.labels(route, outcome).inc()

    # --- read cache ----------------------------------------------------------------------------

    def read_cache_outcome(self, outcome: str) -> None:
        """Count one cacheable read of the FastAPI door by outcome (hit, miss, bypass)."""
        self.read_cache.labels(outcome).inc()

    # --- exposition ----------------------------------------------------------------------------

    def render(self) -> bytes:
        """The text exposition format of every series (of every worker, with several)."""
        if not self.multiprocess:
            return generate_latest(self.registry)
        merged = CollectorRegistry(auto_describe=False)
        MultiProcessCollector(merged)
        return generate_latest(merged)

"""The comparer: takes a mirrored /api read, replays it on both doors in the background, tallies the outcome.

nginx hands over only the client's request (src/shadow/intake.py: a datagram after the answer,
already sampled), so the comparer fetches Flask's answer itself: legacy, then v2, and when they
differ legacy again. Two legacy answers that differ mean a write landed in between: the read is
counted as `raced`, not as a mismatch. `offer` never waits: beyond the in-flight cap or its
route's per-second budget a read is dropped (`shed`), never queued, and while clients are being served it
is mostly dropped too (`busy`), so replays use the doors' idle time rather than compete with
clients for it, and cost a bounded share of it however much traffic there is.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

import httpcore

from src.config import Settings
from src.core.clock import utcnow
from src.core.parity import Outcome, ParityBatch, ValueDifference
from src.integrations.asyncio_network import AsyncioBackend
from src.observability.metrics import UNMATCHED_ROUTE, Metrics
from src.shadow.diff import json_differences
from src.shadow.volatile import volatile_fields

log = logging.getLogger(__name__)

LEGACY_PREFIX = "/api/"
V2_PREFIX = "/api/v2/"
MIRRORED_METHODS = frozenset({"GET", "HEAD"})
# Hop-by-hop headers, the ones the HTTP client sets itself, and the mirror's own.
_NOT_FORWARDED = frozenset({
    "host", "content-length", "content-type", "connection", "keep-alive", "transfer-encoding", "te",
    "upgrade", "proxy-connection", "accept-encoding", "x-shadow-method", "x-shadow-uri",
})
REPLAY_TIMEOUT_SECONDS = 10.0
REPLAY_ID_SUFFIX = ".shadow"
_TIMEOUTS = {"timeout": {"connect": REPLAY_TIMEOUT_SECONDS, "read": REPLAY_TIMEOUT_SECONDS,
                         "write": REPLAY_TIMEOUT_SECONDS, "pool": REPLAY_TIMEOUT_SECONDS}}
# A replay that could not complete: the door is down, slow, or answered garbage.
REPLAY_ERRORS = (httpcore.NetworkError, httpcore.TimeoutException, httpcore.ProtocolError,
                 httpcore.UnsupportedProtocol)
FLUSH_SECONDS = 1.0
# While the doors serve other requests, at most one read per this many seconds is compared.
BUSY_COMPARE_SECONDS = 1.0

Offered = Literal["accepted", "shed", "busy", "ignored"]
# v2 path (`/api/v2/jobs/abc`) → its route template (`/api/v2/jobs/{job_id}`), or None.
RouteResolver = Callable[[str], str | None]
# Writes a batch to the database; called in a worker thread.
BatchStore = Callable[[ParityBatch], None]


@dataclass(frozen=True)
class Answer:
    status: int
    content: bytes
    served_by: str | None

    @cached_property
    def body(self) -> Any:
        """The JSON body, parsed only when the raw bytes of two answers differ."""
        try:
            return json.loads(self.content) if self.content else None
        except ValueError:
            return f"<non-JSON body of {len(self.content)} bytes>"


@dataclass(frozen=True)
class MirroredRead:
    method: str
    uri: str  # path and query string as the client sent them, under /api/
    headers: dict[str, str]
    request_id: str | None

    @property
    def v2_uri(self) -> str:
        """The contract's route mapping (the one cutover applies): /api/<rest> → /api/v2/<rest>."""
        return V2_PREFIX + self.uri[len(LEGACY_PREFIX):]


def mirrored_read(method: str, uri: str, headers: Mapping[str, str]) -> MirroredRead | None:
    """The read nginx mirrored, or None when it is not one the comparer compares (writes, /api/v2)."""
    method = method.upper()
    if method not in MIRRORED_METHODS or not uri.startswith(LEGACY_PREFIX) or uri.startswith(V2_PREFIX):
        return None
    forwarded = {name: value for name, value in headers.items()
                 if name.lower() not in _NOT_FORWARDED and name.lower() != "x-request-id"}
    request_id = next((value for name, value in headers.items() if name.lower() == "x-request-id"), None)
    if request_id:
        # The replays log under their own id: one client request stays one line per id in each
        # door's log, and the suffix still leads an operator from a sample to the client's request.
        forwarded["X-Request-ID"] = request_id[:128 - len(REPLAY_ID_SUFFIX)] + REPLAY_ID_SUFFIX
    return MirroredRead(method, uri, forwarded, request_id)


class Comparer:
    """The in-flight cap, the replays and the tally of one process (nginx samples, see src/deploy/nginx.py)."""

    def __init__(self, settings: Settings, metrics: Metrics, resolve: RouteResolver, store: BatchStore) -> None:
        self.legacy_url = settings.shadow_legacy_url
        self.v2_url = settings.shadow_v2_url
        self.max_in_flight = settings.SHADOW_MAX_IN_FLIGHT
        self.sample_limit = settings.SHADOW_SAMPLES_PER_DIFFERENCE
        self.metrics = metrics
        self.resolve = resolve
        self.store = store
        # httpcore directly: no per-request log line, no redirects, pooled keep-alive connections.
        self.client = httpcore.AsyncConnectionPool(
            max_connections=2 * self.max_in_flight, keepalive_expiry=30.0, network_backend=AsyncioBackend())
        self.batch = ParityBatch(sample_limit=self.sample_limit)
        self._tasks: set[asyncio.Task[None]] = set()
        self._flusher: asyncio.Task[None] | None = None
        # When a read may next be compared while the doors serve others (monotonic seconds).
        self._next_busy_comparison = 0.0
        # Each route's comparisons left in its budget (a token bucket refilled continuously): below
        # saturation nginx is mostly idle and would hand over nearly every read, and each
        # comparison replays it on both doors (docs/PERFORMANCE.md, the open-loop shadow bench).
        # Per route, so a busy route never starves the others of evidence.
        self.per_second = settings.SHADOW_MAX_PER_SECOND
        self._budgets: dict[str, tuple[float, float]] = {}  # route -> (comparisons left, when counted)

    # --- intake --------------------------------------------------------------------------------

    def offer(self, method: str, uri: str, headers: Mapping[str, str], others_in_flight: int = 0) -> Offered:
        """Take a mirrored read or drop it; never waits for anything.

        `others_in_flight`: the client requests nginx was still serving as this one ended. While
        there are any, a comparison's replays would compete with them for the doors' CPU, so
        only one read every BUSY_COMPARE_SECONDS is compared (evidence still accrues on a busy
        deployment, at the cost of one replayed read a second); the rest are dropped as `busy`.
        """
        read = mirrored_read(method, uri, headers)
        if read is None:
            return "ignored"
        route = self.route_of(read)
        now = time.monotonic()
        if others_in_flight > 0 and now < self._next_busy_comparison:
            self.metrics.shadow_read(route, "busy")
            return "busy"
        if len(self._tasks) >= self.max_in_flight or not self._take_budget(route, now):
            self.metrics.shadow_read(route, "shed")
            return "shed"
        if others_in_flight > 0:
            self._next_busy_comparison = now + BUSY_COMPARE_SECONDS
        task = asyncio.get_running_loop().create_task(self._compare(read, route))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return "accepted"

    def _take_budget(self, route: str, now: float) -> bool:
        """One comparison out of the route's SHADOW_MAX_PER_SECOND budget, or False when it is spent."""
        full = max(1.0, self.per_second)
        left, counted_at = self._budgets.get(route, (full, now))
        left = min(full, left + (now - counted_at) * self.per_second)
        if left < 1.0:
            self._budgets[route] = (left, now)
            return False
        self._budgets[route] = (left - 1.0, now)
        return True

    def route_of(self, read: MirroredRead) -> str:
        """`GET /api/jobs/{job_id}`: the legacy route template, found by the v2 door's own routing."""
        template = self.resolve(read.v2_uri.split("?", 1)[0])
        if template is None:
            return f"{read.method} {UNMATCHED_ROUTE}"
        return f"{read.method} {LEGACY_PREFIX}{template[len(V2_PREFIX):]}"

    # --- one comparison --------------------------------------------------------------------------

    async def _compare(self, read: MirroredRead, route: str) -> None:
        volatile = volatile_fields(route)
        try:
            before = await self._fetch(self.legacy_url + read.uri, read)
            new = await self._fetch(self.v2_url + read.v2_uri, read)
            if before.served_by != "flask" or new.served_by != "fastapi":
                log.warning("shadow read of %s not compared: answered by %s and %s (check SHADOW_LEGACY_URL "
                            "and SHADOW_V2_URL)", route, before.served_by, new.served_by)
                self.metrics.shadow_read(route, "error")
                return
            differences = _differences(before, new, volatile)
            # Only a difference needs the second legacy answer: equal answers match whatever
            # happened in between, and a read costs Flask one replay, not two.
            after = await self._fetch(self.legacy_url + read.uri, read) if differences else before
            raced = bool(differences) and bool(_differences(before, after, volatile))
        except REPLAY_ERRORS as exc:
            log.warning("shadow read of %s not compared: %s", route, type(exc).__name__)
            self.metrics.shadow_read(route, "error")
            return
        except Exception:
            # A comparer bug must show up, but never as an unretrieved task error or a client's problem.
            log.exception("shadow read of %s failed", route)
            self.metrics.shadow_read(route, "error")
            return
        self.record(route, read.request_id, "raced" if raced else "mismatched" if differences else "matched",
                    [] if raced else differences)

    def record(self, route: str, request_id: str | None, outcome: Outcome,
               differences: list[ValueDifference]) -> None:
        """Add one finished comparison to the batch the flusher writes, and to the metrics."""
        self.batch.add(route, outcome, utcnow(), differences, request_id)
        self.metrics.shadow_read(route, outcome)

    async def _fetch(self, url: str, read: MirroredRead) -> Answer:
        response = await self.client.request(read.method, url, headers=list(read.headers.items()),
                                             extensions=_TIMEOUTS)
        served_by = next((value.decode("latin-1") for name, value in response.headers
                          if name.lower() == b"x-served-by"), None)
        return Answer(response.status, response.content, served_by)

    # --- writing results ---------------------------------------------------------------------------

    def start(self) -> None:
        self._flusher = asyncio.get_running_loop().create_task(self._flush_forever())

    async def _flush_forever(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            await self.flush()

    async def flush(self) -> None:
        """Write what was tallied since the last flush: one transaction, whatever the traffic."""
        if not self.batch:
            return
        batch, self.batch = self.batch, ParityBatch(sample_limit=self.sample_limit)
        try:
            await asyncio.to_thread(self.store, batch)
        except Exception:
            log.exception("shadow read results could not be stored; %d route-hour tallies dropped", len(batch.counts))

    async def close(self) -> None:
        """Stop: comparisons in flight are abandoned, what was tallied is written."""
        if self._flusher is not None:
            self._flusher.cancel()
        for task in list(self._tasks):
            task.cancel()
        pending = [*self._tasks, *([self._flusher] if self._flusher is not None else [])]
        await asyncio.gather(*pending, return_exceptions=True)
        await self.flush()
        await self.client.aclose()


def _differences(legacy: Answer, v2: Answer, volatile: frozenset[str]) -> list[ValueDifference]:
    # The common cases, each one C-level comparison: the same bytes but Flask's final newline (a
    # body both doors take from the core's renderer: the 1.7 MB job list), else the same JSON.
    if legacy.status == v2.status and (legacy.content.rstrip() == v2.content.rstrip() or legacy.body == v2.body):
        return []
    found = [ValueDifference("status", legacy.status, v2.status)] if legacy.status != v2.status else []
    return found + json_differences(legacy.body, v2.body, volatile)

"""Repeated reads answered from memory while the database is unchanged (SQLite, FastAPI door).

A dashboard asks the same questions again and again: the unread count, a job's page, its runs.
An answer is kept per (Authorization header, path, query string) with the database's data
version (src/database/data_version.py) and the minute it was rendered in, and given again only
while both are unchanged and the token is still within its lifetime. Any commit by any
connection changes the data version, so a write through either door, by the scheduler or by
another worker is seen by the very next read, as without the cache. What a kept answer shows
of the clock (a 5-field cron's next fire) moves only at minute boundaries: hence the minute.

Only routes whose answer depends on nothing else are listed (CACHED_READS). Only 200 answers
are kept: an error is always worked out again, in the contract's order; a conditional request
(If-None-Match, the job list's ETag) always goes through, so its 304 is decided as before.
A read that arrives while the same answer (same key, state and minute) is being worked out waits
for it instead of working it out again: at a minute boundary every connection misses at once.

A kept JSON answer of 1 KB or more is also kept gzipped, made once (on the first hit from a client
that accepts gzip, so an answer nobody asks for again costs nothing more; kept over to the next
minute's answer when its bytes are the same) and given to every such client after it: nginx
would otherwise compress the same bytes again for each request (its gzip filter leaves an answer
that already has a Content-Encoding alone). The copy carries what nginx's
own compression would: `Content-Encoding: gzip`, `Vary: Accept-Encoding`, a weak ETag.
"""

from __future__ import annotations

import asyncio
import gzip
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from src.config import Settings
from src.core.tokens import token_current
from src.database.data_version import DataVersion

# Route templates under the API prefix whose 200 answer is a function of the caller's token, the
# path, the query string, the database and the minute.
CACHED_READS = (
    "/auth/me",
    "/jobs",
    "/jobs/{job_id}",
    "/jobs/{job_id}/executions",
    "/jobs/{job_id}/executions/stats",
    "/jobs/{job_id}/executions/{execution_id}",
    "/executions",
    "/executions/statistics",
    "/stats/executions",
    "/executions/{execution_id}",
    "/notifications",
    "/notifications/unread-count",
    "/categories",
    "/job-categories",
    "/teams",
    "/pic-teams",
)


def cached_paths(prefix: str, templates: tuple[str, ...] = CACHED_READS) -> re.Pattern[str]:
    """One pattern matching the concrete paths of `templates` under `prefix`."""
    alternatives = (re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(template)) for template in templates)
    return re.compile(re.escape(prefix) + "(?:" + "|".join(alternatives) + ")")


# As nginx's gzip (deploy/nginx/*.conf.template): JSON of gzip_min_length (1 KB) or more. Level 6:
# the 2,000-job list (1.75 MB) becomes 171 KB in 14 ms, once; level 1 gives 221 KB (6 ms), level 9
# 161 KB (36 ms).
GZIP_MIN_BYTES = 1024
GZIP_LEVEL = 6
# Larger bodies are compressed in a thread (zlib releases the GIL): the event loop goes on serving.
GZIP_INLINE_BYTES = 64 * 1024


def accepts_gzip(accept_encoding: bytes | None) -> bool:
    """Whether an Accept-Encoding names gzip (or x-gzip) with a q-value above 0.

    Only an explicit gzip counts, as for nginx (a bare `*` gets the plain bytes, which nginx then
    judges itself); an unreadable q-value counts as a refusal, for the same reason.
    """
    if not accept_encoding:
        return False
    for item in accept_encoding.decode("latin-1").lower().split(","):
        coding, _, parameters = item.partition(";")
        if coding.strip() not in ("gzip", "x-gzip"):
            continue
        quality = 1.0
        for parameter in parameters.split(";"):
            name, _, value = parameter.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    return False
        return quality > 0
    return False


def weak_etag(etag: bytes) -> bytes | None:
    """The ETag nginx sends with an answer it compressed: a strong one weakened, a malformed one dropped."""
    if etag.startswith(b"W/"):
        return etag
    if etag.startswith(b'"'):
        return b"W/" + etag
    return None


def _compressible(start: Message, body: bytes) -> bool:
    if len(body) < GZIP_MIN_BYTES:
        return False
    content_type = b""
    for name, value in start["headers"]:
        if name == b"content-encoding":
            return False
        if name == b"content-type":
            content_type = value
    return content_type.split(b";")[0].strip().lower() == b"application/json"


def _gzip_start(start: Message, size: int) -> Message:
    """The plain answer's status and headers, as nginx's gzip filter would have sent them."""
    headers: list[tuple[bytes, bytes]] = []
    vary = b""
    for name, value in start["headers"]:
        if name == b"content-length":
            continue
        if name == b"vary":
            vary = value
            continue
        if name == b"etag":
            weak = weak_etag(value)
            if weak is not None:
                headers.append((name, weak))
            continue
        headers.append((name, value))
    headers += [(b"content-encoding", b"gzip"), (b"content-length", str(size).encode()),
                (b"vary", vary + b", Accept-Encoding" if vary else b"Accept-Encoding")]
    return {**start, "headers": headers}


def _current(kept: KeptAnswer | _Flight | None, probe: DataVersion, version: int, minute: int) -> bool:
    """Whether a kept answer (or one being worked out) is for this database state and minute."""
    return kept is not None and kept.probe is probe and kept.version == version and kept.minute == minute


@dataclass(frozen=True)
class _Flight:
    """An answer being worked out now, for the state and minute it will be kept under."""

    probe: DataVersion
    version: int
    minute: int
    done: asyncio.Event


@dataclass
class KeptAnswer:
    probe: DataVersion  # each connection numbers its versions itself: a new probe matches nothing old
    version: int
    minute: int
    start: Message
    body: bytes
    route: Any  # the matched route, so the request log and metrics name it as for any answer
    compressible: bool = False
    # The gzipped copy and its start message, once made; the compression in flight meanwhile.
    gzipped: tuple[Message, bytes] | None = None
    compressing: asyncio.Task[tuple[Message, bytes]] | None = field(default=None, repr=False)

    @property
    def size(self) -> int:
        """Bytes counted against READ_CACHE_MB: the plain body and its gzipped copy."""
        return len(self.body) + (len(self.gzipped[1]) if self.gzipped else 0)


class ReadCache:
    """ASGI middleware, innermost: GETs of CACHED_READS paths answered from kept answers.

    `data_version` gives the probe the lifespan opened, or None (PostgreSQL, no lifespan): then
    every request goes through. `count` is told each outcome: hit, miss (kept), bypass.
    """

    def __init__(self, app: ASGIApp, *, paths: re.Pattern[str], max_bytes: int,
                 data_version: Callable[[], DataVersion | None], settings: Settings,
                 count: Callable[[str], None], clock: Callable[[], float] = time.time) -> None:
        self.app = app
        self._paths = paths
        self._max_bytes = max_bytes
        self._data_version = data_version
        self._settings = settings
        self._count = count
        self._clock = clock
        self._kept: OrderedDict[tuple[bytes, str, bytes], KeptAnswer] = OrderedDict()
        self._flights: dict[tuple[bytes, str, bytes], _Flight] = {}
        self._bytes = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (self._max_bytes <= 0 or scope["type"] != "http" or scope["method"] != "GET"
                or not self._paths.fullmatch(scope["path"])):
            await self.app(scope, receive, send)
            return
        probe = self._data_version()
        authorization, conditional, accept_encoding = None, False, None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value
            elif name == b"if-none-match":
                conditional = True
            elif name == b"accept-encoding":
                accept_encoding = value if accept_encoding is None else accept_encoding + b"," + value
        now = self._clock()
        if probe is None or authorization is None or conditional or now % 60 == 0:
            # On a minute boundary itself a next fire time may be that very minute or the next.
            await self.app(scope, receive, send)
            return
        key = (authorization, scope["path"], scope["query_string"])
        version, minute = probe.read(), int(now // 60)
        kept = self._kept.get(key)
        if not _current(kept, probe, version, minute):
            flight = self._flights.get(key)
            if flight is not None and _current(flight, probe, version, minute):
                # The same answer is being worked out now (at a minute boundary under load, every
                # connection asks at once): working it out again would only repeat it. If it is not
                # kept after all (an error, a commit meanwhile), this request works it out itself.
                await flight.done.wait()
                kept = self._kept.get(key)
        if (kept is not None and _current(kept, probe, version, minute)
                and token_current(self._settings, authorization.decode("latin-1"))):
            self._kept.move_to_end(key)
            self._count("hit")
            scope["route"] = kept.route
            start, body = kept.start, kept.body
            if kept.compressible and accepts_gzip(accept_encoding):
                start, body = await self._gzipped(key, kept)
            # A copy each time: the middlewares outside add this request's own headers to it.
            await send({**start, "headers": list(start["headers"])})
            await send({"type": "http.response.body", "body": body, "more_body": False})
            return
        await self._answer_and_keep(scope, receive, send, key, probe, version, minute)

    async def _answer_and_keep(self, scope: Scope, receive: Receive, send: Send,
                               key: tuple[bytes, str, bytes], probe: DataVersion, version: int, minute: int) -> None:
        start: Message | None = None
        parts: list[bytes] = []

        async def send_watched(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = {**message, "headers": list(message["headers"])}  # before others add theirs
            elif message["type"] == "http.response.body":
                parts.append(message.get("body", b""))
            await send(message)

        flight = self._flights[key] = _Flight(probe, version, minute, asyncio.Event())
        try:
            await self.app(scope, receive, send_watched)
            # Kept only if nothing committed while it was worked out: otherwise the answer may show
            # a newer state than `version` names (or an older one than the next reader should see).
            if (start is not None and start["status"] == 200 and probe.read() == version
                    and int(self._clock() // 60) == minute):
                self._count("miss")
                body = b"".join(parts)
                self._keep(key, KeptAnswer(probe, version, minute, start, body, scope.get("route"),
                                           compressible=_compressible(start, body)))
            else:
                self._count("bypass")
        finally:
            # Whoever waited on this flight now finds the answer kept, or works it out itself.
            if self._flights.get(key) is flight:
                del self._flights[key]
            flight.done.set()

    async def _gzipped(self, key: tuple[bytes, str, bytes], kept: KeptAnswer) -> tuple[Message, bytes]:
        """The kept answer's gzipped copy, made by the first hit that wants it; the others wait for it."""
        if kept.gzipped is not None:
            return kept.gzipped
        if kept.compressing is None:
            if len(kept.body) <= GZIP_INLINE_BYTES:
                self._attach(key, kept, self._compress(kept))
                assert kept.gzipped is not None
                return kept.gzipped
            kept.compressing = asyncio.create_task(asyncio.to_thread(self._compress, kept))
            kept.compressing.add_done_callback(
                lambda task: None if task.cancelled() or task.exception() else self._attach(key, kept, task.result()))
        try:
            # Shielded: a client that goes away must not cancel the copy the others are waiting for.
            return await asyncio.shield(kept.compressing)
        except Exception:  # noqa: BLE001 - no copy (out of memory?): the plain bytes are still right
            return kept.start, kept.body

    @staticmethod
    def _compress(kept: KeptAnswer) -> tuple[Message, bytes]:
        # mtime 0: the same answer always compresses to the same bytes.
        body = gzip.compress(kept.body, compresslevel=GZIP_LEVEL, mtime=0)
        return _gzip_start(kept.start, len(body)), body

    def _attach(self, key: tuple[bytes, str, bytes], kept: KeptAnswer, gzipped: tuple[Message, bytes]) -> None:
        """Keeps the copy with its answer and counts it, if the answer is still the kept one."""
        if kept.gzipped is not None:
            return
        current = self._kept.get(key) is kept
        if current:
            self._bytes -= kept.size
        kept.gzipped = gzipped
        if current:
            self._bytes += kept.size
            self._trim()

    def _keep(self, key: tuple[bytes, str, bytes], answer: KeptAnswer) -> None:
        if len(answer.body) > self._max_bytes // 8:
            return  # one large answer would push out many small ones
        old = self._kept.pop(key, None)
        if old is not None:
            self._bytes -= old.size
            # The next minute's answer is mostly the same bytes (the job list: unless a next fire
            # moved): its copy is still right, and comparing costs far less than compressing.
            if old.gzipped is not None and old.start == answer.start and old.body == answer.body:
                answer.gzipped = old.gzipped
        self._kept[key] = answer
        self._bytes += answer.size
        self._trim()

    def _trim(self) -> None:
        while self._bytes > self._max_bytes:
            _, dropped = self._kept.popitem(last=False)
            self._bytes -= dropped.size

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
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from src.config import Settings
from src.core.errors import Unauthorized
from src.core.tokens import bearer_token, decode_token
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


@dataclass(frozen=True)
class KeptAnswer:
    probe: DataVersion  # each connection numbers its versions itself: a new probe matches nothing old
    version: int
    minute: int
    start: Message
    body: bytes
    route: Any  # the matched route, so the request log and metrics name it as for any answer


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
        self._bytes = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (self._max_bytes <= 0 or scope["type"] != "http" or scope["method"] != "GET"
                or not self._paths.fullmatch(scope["path"])):
            await self.app(scope, receive, send)
            return
        probe = self._data_version()
        authorization, conditional = None, False
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value
            elif name == b"if-none-match":
                conditional = True
        now = self._clock()
        if probe is None or authorization is None or conditional or now % 60 == 0:
            # On a minute boundary itself a next fire time may be that very minute or the next.
            await self.app(scope, receive, send)
            return
        key = (authorization, scope["path"], scope["query_string"])
        version, minute = probe.read(), int(now // 60)
        kept = self._kept.get(key)
        if (kept is not None and kept.probe is probe and kept.version == version and kept.minute == minute
                and self._token_current(authorization)):
            self._kept.move_to_end(key)
            self._count("hit")
            scope["route"] = kept.route
            # A copy each time: the middlewares outside add this request's own headers to it.
            await send({**kept.start, "headers": list(kept.start["headers"])})
            await send({"type": "http.response.body", "body": kept.body, "more_body": False})
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

        await self.app(scope, receive, send_watched)
        # Kept only if nothing committed while it was worked out: otherwise the answer may show
        # a newer state than `version` names (or an older one than the next reader should see).
        if (start is not None and start["status"] == 200 and probe.read() == version
                and int(self._clock() // 60) == minute):
            self._count("miss")
            self._keep(key, KeptAnswer(probe, version, minute, start, b"".join(parts), scope.get("route")))
        else:
            self._count("bypass")

    def _keep(self, key: tuple[bytes, str, bytes], answer: KeptAnswer) -> None:
        if len(answer.body) > self._max_bytes // 8:
            return  # one large answer would push out many small ones
        old = self._kept.pop(key, None)
        if old is not None:
            self._bytes -= len(old.body)
        self._kept[key] = answer
        self._bytes += len(answer.body)
        while self._bytes > self._max_bytes:
            _, dropped = self._kept.popitem(last=False)
            self._bytes -= len(dropped.body)

    def _token_current(self, authorization: bytes) -> bool:
        """The token's signature and lifetime, as authentication checks them (cached, cheap)."""
        try:
            decode_token(self._settings, bearer_token(authorization.decode("latin-1")))
        except Unauthorized:
            return False
        return True

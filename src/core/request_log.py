"""One access-log line per request with its `X-Request-ID`, the same fields on both doors.

nginx sets `X-Request-ID` (its `$request_id`) when the client sent none; a door reached without
nginx makes one up. The id is echoed in the response so a client report can be matched with the
log lines of nginx and of the app. The line carries the path without its query string and no
header: nothing a client sends as a credential reaches the log.
"""

from __future__ import annotations

import logging
import re
import uuid

REQUEST_ID_HEADER = "X-Request-ID"
_ACCEPTABLE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

log = logging.getLogger("src.request")


def request_id_from(header_value: str | None) -> str:
    """The caller's id when it is a sane token (no log injection), else a fresh one."""
    if header_value and _ACCEPTABLE_ID.fullmatch(header_value):
        return header_value
    return uuid.uuid4().hex


def log_request(
    door: str, request_id: str, method: str, path: str, route: str, status: int, duration_ms: float
) -> None:
    """`GET /api/jobs 200 3.1ms`, with request_id, door, method, path, route, status, duration_ms fields."""
    log.info(
        "%s %s %d %.1fms", method, path, status, duration_ms,
        extra={"request_id": request_id, "door": door, "method": method, "path": path, "route": route,
               "status": status, "duration_ms": round(duration_ms, 1)},
    )

"""One access-log line per request with its `X-Request-ID`, the same format on both doors.

nginx sets `X-Request-ID` (its `$request_id`) when the client sent none; a door reached without
nginx makes one up. The id is echoed in the response so a client report can be matched with the
log lines of nginx and of the app.
"""

from __future__ import annotations

import logging
import re
import sys
import uuid

REQUEST_ID_HEADER = "X-Request-ID"
_ACCEPTABLE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

log = logging.getLogger("src.request")


def request_id_from(header_value: str | None) -> str:
    """The caller's id when it is a sane token (no log injection), else a fresh one."""
    if header_value and _ACCEPTABLE_ID.fullmatch(header_value):
        return header_value
    return uuid.uuid4().hex


def log_request(door: str, request_id: str, method: str, path: str, status: int, duration_ms: float) -> None:
    """`request_id=<id> door=<flask|fastapi> GET /api/jobs 200 3.1ms`."""
    log.info("request_id=%s door=%s %s %s %d %.1fms", request_id, door, method, path, status, duration_ms)


def configure_process_logging() -> None:
    """INFO lines on stdout for a server process; a no-op where logging is configured already."""
    logging.basicConfig(
        stream=sys.stdout,
        level=logging.INFO,
        format="%(asctime)s %(levelname)s [%(name)s] %(message)s",
    )

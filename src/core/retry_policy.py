"""When a run calls its target again (contract 8.1): which failures, and how long to wait.

Connection errors, timeouts, 429 and 5xx are worth another try; anything else is the target's
answer. Waits grow exponentially from the job's backoff with full jitter (a uniform draw between
0 and the exponential step, so many jobs failing together do not retry in step), capped at one
hour; a `Retry-After` from the target sets the wait instead (capped the same way).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

MAX_WAIT_SECONDS = 3600.0


def is_retryable_status(status: int) -> bool:
    return status == 429 or 500 <= status <= 599


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """A `Retry-After` header (delta seconds or an HTTP date) as seconds from now, or None."""
    if not value or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def wait_before_retry(
    retry_number: int,
    backoff_seconds: float,
    retry_after: float | None = None,
    draw: Callable[[float, float], float] = random.uniform,
) -> float:
    """Seconds to wait before retry `retry_number` (1 for the first retry)."""
    if retry_after is not None:
        return min(MAX_WAIT_SECONDS, retry_after)
    step = min(MAX_WAIT_SECONDS, backoff_seconds * 2 ** (retry_number - 1))
    return draw(0.0, step)


def longest_run_seconds(attempts: int, timeout_seconds: float, calls_per_attempt: int = 3) -> float:
    """The most a run with these settings can take: every call times out, every wait is the cap."""
    return attempts * calls_per_attempt * timeout_seconds + (attempts - 1) * MAX_WAIT_SECONDS

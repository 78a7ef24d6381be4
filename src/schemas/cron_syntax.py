"""Whether a text is a 5-field crontab (contract 7.2): the pure rule request models state."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from croniter import croniter
from croniter.croniter import CroniterError

FIELD_COUNT_REASON = "Cron expression must have exactly 5 fields (minute hour day month day-of-week)."
BLANK_REASON = "Cron expression is required."
# Five whitespace-separated fields: what a document can say of a crontab (each field's range is
# the parser's to judge).
FIVE_FIELDS_PATTERN = r"^\s*\S+(\s+\S+){4}\s*$"


def cron_problem(expression: Any) -> str | None:
    """Why an expression is invalid, or None when it is a valid 5-field crontab."""
    if not isinstance(expression, str) or not expression.strip():
        return BLANK_REASON
    fields = expression.split()
    if len(fields) != 5:
        return FIELD_COUNT_REASON
    return _parser_problem(" ".join(fields))


@lru_cache(maxsize=4096)
def _parser_problem(normalized: str) -> str | None:
    try:
        croniter(normalized, datetime(2000, 1, 1, tzinfo=UTC))
    except (CroniterError, ValueError, KeyError, TypeError) as exc:
        return str(exc) or "Invalid cron expression"
    return None

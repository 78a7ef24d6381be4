"""Cron tools (contract 4.8, 4.9, 4.11): validate, preview and describe an expression."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from src.config import Settings
from src.core.clock import format_local
from src.core.cron import cron_problem, describe, next_runs
from src.core.errors import Invalid
from src.core.request_parsing import number
from src.schemas.jobs import CronDescriptionResponse, CronPreviewResponse, CronValidationResponse

log = logging.getLogger(__name__)

INVALID_CRON = "Invalid cron expression"
DEFAULT_PREVIEW_COUNT = 5
MAX_PREVIEW_COUNT = 20


def expression_input(payload: dict[str, Any]) -> Any:
    """The expression to check: `expression` wins over `cron_expression` when it is not null."""
    value = payload.get("expression")
    return value if value is not None else payload.get("cron_expression")


def _trimmed(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def validate_cron(payload: dict[str, Any]) -> CronValidationResponse:
    """Always a result (never an error): valid, or invalid with the reason of 7.2."""
    problem = cron_problem(expression_input(payload))
    if problem is None:
        return CronValidationResponse(valid=True, message="Valid cron expression")
    return CronValidationResponse(valid=False, error=INVALID_CRON, message=problem)


def preview_count(payload: dict[str, Any]) -> int:
    """`count`: absent/null/0 → 5; otherwise clamped to 1..20; non-numeric → 400 (1.2)."""
    value = number(payload, "count")
    if not value:
        return DEFAULT_PREVIEW_COUNT
    return max(1, min(MAX_PREVIEW_COUNT, int(value)))


def cron_preview(
    payload: dict[str, Any], settings: Settings, now: datetime | None = None
) -> CronPreviewResponse:
    """The next fire times from now (inclusive); invalid cron → 400."""
    count = preview_count(payload)
    expression = expression_input(payload)
    problem = cron_problem(expression)
    if problem is not None:
        raise Invalid(INVALID_CRON, problem)
    tz = settings.scheduler_tz
    runs = [format_local(run, tz) or "" for run in next_runs(expression, tz, count, now)]
    return CronPreviewResponse(timezone=settings.scheduler_tz.key, next_runs=runs, count=len(runs))


def cron_description(payload: dict[str, Any], settings: Settings) -> CronDescriptionResponse:
    """An English summary with crontab day-of-week semantics; invalid → result with the reason."""
    expression = expression_input(payload)
    trimmed = _trimmed(expression)
    problem = cron_problem(expression)
    if problem is not None:
        return CronDescriptionResponse(
            valid=False, expression=trimmed, timezone=settings.scheduler_tz.key, description="",
            error=INVALID_CRON, message=problem,
        )
    try:
        text = describe(trimmed)
    except Exception:  # the describer is stricter than the parser on a few exotic forms
        log.warning("cron_descriptor could not describe %r", trimmed, exc_info=True)
        text = ""
    return CronDescriptionResponse(
        valid=True, expression=trimmed, timezone=settings.scheduler_tz.key,
        description=text or f"Cron schedule {' '.join(trimmed.split())}",
    )

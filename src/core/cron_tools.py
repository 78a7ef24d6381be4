"""Cron tools (contract 4.8, 4.9, 4.11): validate, preview and describe an expression."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from src.config import Settings
from src.core.clock import format_local
from src.core.cron import cron_problem, describe, next_runs
from src.schemas.cron_bodies import INVALID_CRON, CronExpressionRequest, CronPreviewRequest
from src.schemas.jobs import CronDescriptionResponse, CronPreviewResponse, CronValidationResponse

log = logging.getLogger(__name__)

def _trimmed(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def validate_cron(body: CronExpressionRequest) -> CronValidationResponse:
    """Always a result (never an error): valid, or invalid with the reason of 7.2."""
    problem = cron_problem(body.chosen)
    if problem is None:
        return CronValidationResponse(valid=True, message="Valid cron expression")
    return CronValidationResponse(valid=False, error=INVALID_CRON, message=problem)


def cron_preview(body: CronPreviewRequest, settings: Settings, now: datetime | None = None) -> CronPreviewResponse:
    """The next fire times from now (inclusive); the model has refused an invalid cron (400)."""
    tz = settings.scheduler_tz
    runs = [format_local(run, tz) or "" for run in next_runs(body.chosen, tz, body.runs_wanted, now)]
    return CronPreviewResponse(timezone=settings.scheduler_tz.key, next_runs=runs, count=len(runs))


def cron_description(body: CronExpressionRequest, settings: Settings) -> CronDescriptionResponse:
    """An English summary with crontab day-of-week semantics; invalid → result with the reason."""
    expression = body.chosen
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

"""Cron tools (contract 4.8, 4.9, 4.11): validate, preview and describe an expression.

The bodies arrive parsed by their request models (src/schemas/cron_bodies.py); the results are
domain data that the doors render with the response schemas.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from src.config import Settings
from src.core.clock import format_local
from src.core.cron import cron_problem, describe, next_runs
from src.schemas.cron_bodies import CronExpressionRequest, CronPreviewRequest

log = logging.getLogger(__name__)


def _trimmed(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


@dataclass(frozen=True)
class CronCheck:
    """4.8: `problem` is None for a valid expression, else the reason of 7.2."""

    problem: str | None


@dataclass(frozen=True)
class CronPreview:
    """4.9: the next fire times, written in the scheduler timezone."""

    timezone: str
    next_runs: list[str]


@dataclass(frozen=True)
class CronDescription:
    """4.11: the trimmed expression, its English summary ("" when invalid) and why it is invalid."""

    expression: str
    timezone: str
    description: str
    problem: str | None = None


def validate_cron(body: CronExpressionRequest) -> CronCheck:
    """Always a result (never an error): valid, or invalid with the reason of 7.2."""
    return CronCheck(cron_problem(body.chosen))


def cron_preview(body: CronPreviewRequest, settings: Settings, now: datetime | None = None) -> CronPreview:
    """The next fire times from now (inclusive); the model has refused an invalid cron (400)."""
    tz = settings.scheduler_tz
    runs = [format_local(run, tz) or "" for run in next_runs(body.chosen, tz, body.runs_wanted, now)]
    return CronPreview(timezone=settings.scheduler_tz.key, next_runs=runs)


def cron_description(body: CronExpressionRequest, settings: Settings) -> CronDescription:
    """An English summary with crontab day-of-week semantics; invalid → result with the reason."""
    expression = body.chosen
    trimmed = _trimmed(expression)
    problem = cron_problem(expression)
    if problem is not None:
        return CronDescription(expression=trimmed, timezone=settings.scheduler_tz.key, description="", problem=problem)
    try:
        text = describe(trimmed)
    except Exception:  # the describer is stricter than the parser on a few exotic forms
        log.warning("cron_descriptor could not describe %r", trimmed, exc_info=True)
        text = ""
    return CronDescription(
        expression=trimmed, timezone=settings.scheduler_tz.key,
        description=text or f"Cron schedule {' '.join(trimmed.split())}",
    )

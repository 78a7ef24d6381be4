"""Cron tools (contract 4.8, 4.9, 4.11): validate, preview and describe an expression."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from src.config import Settings
from src.core.clock import format_local
from src.core.cron import cron_problem, describe, next_runs
from src.core.errors import Invalid
from src.core.request_parsing import number

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


def validate_cron(payload: dict[str, Any]) -> CronCheck:
    """Always a result (never an error): valid, or invalid with the reason of 7.2."""
    return CronCheck(cron_problem(expression_input(payload)))


def preview_count(payload: dict[str, Any]) -> int:
    """`count`: absent/null/0 → 5; otherwise clamped to 1..20; non-numeric → 400 (1.2)."""
    value = number(payload, "count")
    if not value:
        return DEFAULT_PREVIEW_COUNT
    return max(1, min(MAX_PREVIEW_COUNT, int(value)))


def cron_preview(payload: dict[str, Any], settings: Settings, now: datetime | None = None) -> CronPreview:
    """The next fire times from now (inclusive); invalid cron → 400."""
    count = preview_count(payload)
    expression = expression_input(payload)
    problem = cron_problem(expression)
    if problem is not None:
        raise Invalid(INVALID_CRON, problem)
    tz = settings.scheduler_tz
    runs = [format_local(run, tz) or "" for run in next_runs(expression, tz, count, now)]
    return CronPreview(timezone=settings.scheduler_tz.key, next_runs=runs)


def cron_description(payload: dict[str, Any], settings: Settings) -> CronDescription:
    """An English summary with crontab day-of-week semantics; invalid → result with the reason."""
    expression = expression_input(payload)
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

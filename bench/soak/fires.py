"""Fire accounting: expected fires vs receiver arrivals vs execution rows, per (job, minute).

Every fired job has the cron `* * * * *`, so each of its fires belongs to a whole minute. An
arrival is attributed to the minute it arrived in (dispatch lag stays far below a minute; the
largest lag is reported so a late arrival would show); an execution row carries its exact
scheduled time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bench.soak.receiver import Arrival
from src.models import JobExecution


def minute_of(epoch_seconds: float) -> int:
    return int(epoch_seconds // 60) * 60


def covered_minutes(start: float, end: float) -> list[int]:
    """Whole-minute boundaries m with start <= m < end (each one fire of every job)."""
    first = minute_of(start) + (0 if start == minute_of(start) else 60)
    return list(range(first, minute_of(end - 1e-6) + 1, 60)) if first < end else []


def _naive_utc(epoch_seconds: int) -> datetime:
    return datetime.fromtimestamp(epoch_seconds, UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class FireCount:
    expected: int
    arrived: int  # all arrivals of the covered minutes, duplicates included
    distinct: int  # distinct (job, minute) arrivals
    lost: int
    duplicates: int  # (job, minute) pairs that arrived more than once
    lag_p50_s: float | None
    lag_max_s: float | None
    per_minute: dict[str, int]
    db_rows: int
    db_distinct: int
    db_by_status: dict[str, int]
    db_lost: int

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def count_fires(arrivals: Iterable[Arrival], job_keys: set[str], minutes: list[int],
                db_rows: list[tuple[str, datetime, str]]) -> FireCount:
    """Compare arrivals (`job` = the job id in the path) and rows (job id, scheduled_for, status) with the expectation."""
    wanted = set(minutes)
    pairs: Counter[tuple[str, int]] = Counter()
    lags: list[float] = []
    for arrival in arrivals:
        minute = minute_of(arrival.at)
        if arrival.job in job_keys and minute in wanted:
            pairs[(arrival.job, minute)] += 1
            lags.append(arrival.at - minute)
    lags.sort()
    expected = len(job_keys) * len(minutes)
    per_minute: Counter[int] = Counter(minute for _job, minute in pairs)
    db_pairs = Counter((job_id, at) for job_id, at, _status in db_rows)
    return FireCount(
        expected=expected,
        arrived=sum(pairs.values()),
        distinct=len(pairs),
        lost=expected - len(pairs),
        duplicates=sum(1 for count in pairs.values() if count > 1),
        lag_p50_s=round(lags[len(lags) // 2], 2) if lags else None,
        lag_max_s=round(lags[-1], 2) if lags else None,
        per_minute={datetime.fromtimestamp(m, UTC).strftime("%H:%M"): per_minute[m] for m in minutes},
        db_rows=len(db_rows),
        db_distinct=len(db_pairs),
        db_by_status=dict(Counter(status for _job, _at, status in db_rows)),
        db_lost=expected - len(db_pairs),
    )


def scheduled_rows(session: Session, job_ids: list[str], minutes: list[int]) -> list[tuple[str, datetime, str]]:
    """(job id, scheduled_for, status) of the scheduled runs of `job_ids` at the covered minutes."""
    if not minutes:
        return []
    rows = session.execute(
        select(JobExecution.job_id, JobExecution.scheduled_for, JobExecution.status).where(
            JobExecution.trigger_type == "scheduled",
            JobExecution.job_id.in_(job_ids),
            JobExecution.scheduled_for.in_([_naive_utc(m) for m in minutes]),
        )
    ).all()
    return [(job_id, at, status) for job_id, at, status in rows]


def running_rows(session: Session, minutes: list[int]) -> int:
    """Scheduled runs of the covered minutes still open (the settle wait polls this)."""
    if not minutes:
        return 0
    return int(session.scalar(
        select(func.count()).select_from(JobExecution).where(
            JobExecution.status == "running",
            JobExecution.scheduled_for.in_([_naive_utc(m) for m in minutes]),
        )
    ) or 0)

"""Fire accounting: expected fires vs receiver arrivals vs execution rows, per (job, scheduled minute).

Every fired job has the cron `* * * * *`, so each fire belongs to a whole minute. The webhook
call of a run happens between its row's `started_at` and `completed_at`, so an arrival is
attributed to the scheduled minute of the job's row whose run was open when it arrived: exact
even when dispatch lags by more than a minute. An arrival no row explains (a dispatch nobody
recorded) is counted as unmatched and attributed to the minute it arrived in.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter, defaultdict
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


def _epoch(naive_utc: datetime | None) -> float | None:
    return naive_utc.replace(tzinfo=UTC).timestamp() if naive_utc is not None else None


@dataclass(frozen=True)
class RunRow:
    """One scheduled execution row, times in epoch seconds."""

    job_id: str
    scheduled: int
    started: float
    completed: float | None
    status: str


# A fire this long after its minute collides with the job's next one (cron `* * * * *`).
LATE_AFTER_SECONDS = 60
# Arrival and row times come from the same host clock; this only absorbs rounding.
_TOLERANCE_SECONDS = 0.5


@dataclass(frozen=True)
class FireCount:
    expected: int
    arrived: int  # arrivals attributed to the covered minutes, duplicates included
    distinct: int  # distinct (job, minute) arrivals
    lost: int
    duplicates: int  # (job, minute) pairs that arrived more than once
    unmatched_arrivals: int  # arrivals no execution row explains
    late: int  # distinct fires that arrived more than a minute after their scheduled minute
    lag_p50_s: float | None  # arrival time after the scheduled minute
    lag_p99_s: float | None
    lag_max_s: float | None
    per_minute: dict[str, int]
    db_rows: int
    db_distinct: int
    db_by_status: dict[str, int]
    db_lost: int

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _attribute(arrival_at: float, rows: list[RunRow], starts: list[float]) -> int | None:
    """The scheduled minute of the latest row of the job started before the arrival and still open then."""
    index = bisect_right(starts, arrival_at + _TOLERANCE_SECONDS) - 1
    while index >= 0:
        row = rows[index]
        if row.completed is None or arrival_at <= row.completed + _TOLERANCE_SECONDS:
            return row.scheduled
        index -= 1
    return None


def count_fires(arrivals: Iterable[Arrival], job_ids: set[str], minutes: list[int],
                rows: list[RunRow]) -> FireCount:
    """Compare arrivals (`job` = the job id in the path) and execution rows with the expectation."""
    wanted = set(minutes)
    by_job: dict[str, list[RunRow]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: r.started):
        by_job[row.job_id].append(row)
    starts = {job: [row.started for row in job_rows] for job, job_rows in by_job.items()}
    pairs: Counter[tuple[str, int]] = Counter()
    late: set[tuple[str, int]] = set()
    lags: list[float] = []
    unmatched = 0
    for arrival in arrivals:
        if arrival.job not in job_ids:
            continue
        minute = _attribute(arrival.at, by_job.get(arrival.job, []), starts.get(arrival.job, []))
        if minute is None:
            unmatched += 1
            minute = minute_of(arrival.at)
        if minute in wanted:
            pairs[(arrival.job, minute)] += 1
            lags.append(arrival.at - minute)
            if arrival.at - minute > LATE_AFTER_SECONDS:
                late.add((arrival.job, minute))
    lags.sort()
    expected = len(job_ids) * len(minutes)
    per_minute: Counter[int] = Counter(minute for _job, minute in pairs)
    covered_rows = [row for row in rows if row.scheduled in wanted]
    db_pairs = {(row.job_id, row.scheduled) for row in covered_rows}
    return FireCount(
        expected=expected,
        arrived=sum(pairs.values()),
        distinct=len(pairs),
        lost=expected - len(pairs),
        duplicates=sum(1 for count in pairs.values() if count > 1),
        unmatched_arrivals=unmatched,
        late=len(late),
        lag_p50_s=round(lags[len(lags) // 2], 2) if lags else None,
        lag_p99_s=round(lags[min(len(lags) - 1, int(len(lags) * 0.99))], 2) if lags else None,
        lag_max_s=round(lags[-1], 2) if lags else None,
        per_minute={datetime.fromtimestamp(m, UTC).strftime("%H:%M"): per_minute[m] for m in minutes},
        db_rows=len(covered_rows),
        db_distinct=len(db_pairs),
        db_by_status=dict(Counter(row.status for row in covered_rows)),
        db_lost=expected - len(db_pairs),
    )


def scheduled_rows(session: Session, job_ids: list[str]) -> list[RunRow]:
    """Every scheduled run of `job_ids` (warm-up and after the window included, for attribution)."""
    result = session.execute(
        select(JobExecution.job_id, JobExecution.scheduled_for, JobExecution.started_at,
               JobExecution.completed_at, JobExecution.status).where(
            JobExecution.trigger_type == "scheduled",
            JobExecution.job_id.in_(job_ids),
            JobExecution.scheduled_for.is_not(None),
        )
    ).all()
    return [RunRow(job_id, int(_epoch(scheduled) or 0), _epoch(started) or 0.0, _epoch(completed), status)
            for job_id, scheduled, started, completed, status in result]


def finished_rows(session: Session, job_ids: list[str], minutes: list[int]) -> int:
    """Scheduled runs of `job_ids` at the covered minutes that have finished (the settle wait polls this)."""
    if not minutes:
        return 0
    return int(session.scalar(
        select(func.count()).select_from(JobExecution).where(
            JobExecution.trigger_type == "scheduled",
            JobExecution.status != "running",
            JobExecution.job_id.in_(job_ids),
            JobExecution.scheduled_for.in_([_naive_utc(m) for m in minutes]),
        )
    ) or 0)

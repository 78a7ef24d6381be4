"""When a run calls again (contract 8.1): retryable answers, full-jitter waits, Retry-After."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from src.core.retry_policy import (
    MAX_WAIT_SECONDS,
    is_retryable_status,
    longest_run_seconds,
    retry_after_seconds,
    wait_before_retry,
)
from src.core.scheduler_sync import INTERRUPTED_MESSAGE, close_interrupted_runs
from src.models import JobExecution
from tests.conftest import Factory


def _upper_bound(low: float, high: float) -> float:
    assert low == 0.0
    return high


@pytest.mark.parametrize(("status", "retryable"), [(429, True), (500, True), (503, True), (599, True),
                                                   (400, False), (404, False), (302, False), (200, False)])
def test_429_and_5xx_are_retryable(status: int, retryable: bool) -> None:
    assert is_retryable_status(status) is retryable


@pytest.mark.parametrize(("retry", "ceiling"), [(1, 10.0), (2, 20.0), (3, 40.0), (10, 3600.0)])
def test_the_wait_is_drawn_from_zero_to_the_exponential_step_capped_at_an_hour(retry: int, ceiling: float) -> None:
    assert wait_before_retry(retry, 10, draw=_upper_bound) == ceiling


def test_the_wait_is_a_random_draw_below_the_step() -> None:
    waits = {wait_before_retry(3, 10) for _ in range(50)}
    assert all(0.0 <= wait <= 40.0 for wait in waits)
    assert len(waits) > 1


def test_retry_after_replaces_the_backoff_and_is_capped() -> None:
    assert wait_before_retry(1, 10, retry_after=2.0) == 2.0
    assert wait_before_retry(1, 10, retry_after=10_000.0) == MAX_WAIT_SECONDS


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert retry_after_seconds("120", now) == 120.0
    assert retry_after_seconds("Thu, 01 Jan 2026 12:00:30 GMT", now) == 30.0
    assert retry_after_seconds("Thu, 01 Jan 2026 11:00:00 GMT", now) == 0.0
    assert retry_after_seconds("soon", now) is None
    assert retry_after_seconds(None, now) is None


def test_longest_run_counts_every_call_and_every_capped_wait() -> None:
    assert longest_run_seconds(1, 10) == 30
    assert longest_run_seconds(3, 5) == 3 * 3 * 5 + 2 * MAX_WAIT_SECONDS


def test_a_running_row_of_a_job_with_retries_is_not_closed_before_its_longest_run(
    db: Session, factory: Factory
) -> None:
    started = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=10)
    plain = factory.execution(factory.job(), status="running", started_at=started)
    retrying = factory.execution(factory.job(max_retries=2), status="running", started_at=started)
    cutoff = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=2)
    assert close_interrupted_runs(db, cutoff) == 1
    db.commit()
    db.expire_all()
    closed, kept = db.get(JobExecution, plain.id), db.get(JobExecution, retrying.id)
    assert closed is not None and (closed.status, closed.error_message) == ("failed", INTERRUPTED_MESSAGE)
    assert closed.duration_ms is not None and closed.duration_ms >= 600_000
    assert kept is not None and kept.status == "running"

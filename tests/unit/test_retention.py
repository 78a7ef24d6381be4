"""Retention rules (src/core/retention.py) on a real database: what goes, what stays, in batches.

Runs on SQLite by default and on PostgreSQL with TEST_DATABASE_URL.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from src.config import Settings
from src.core.retention import (
    PruneCounts,
    batch_steps,
    prunable_counts,
    prune_executions_batch,
    prune_in_batches,
    retention_policy,
)
from src.models import Job, JobExecution, Notification, User, utcnow
from tests.conftest import Factory, make_settings

NOW = datetime(2025, 6, 1, 12, 0, 0)
OLD = NOW - timedelta(days=200)
YOUNG = NOW - timedelta(days=10)


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"EXECUTION_RETENTION_DAYS": 180, "NOTIFICATION_RETENTION_DAYS": 90, "RETENTION_BATCH_SIZE": 1000}


@pytest.fixture
def owner(factory: Factory) -> User:
    return factory.user("user")


@pytest.fixture
def job(factory: Factory, owner: User) -> Job:
    return factory.job(owner)


def prune(db: Session, settings: Settings) -> PruneCounts:
    """What the CLI does: each batch in its own transaction until one comes up short."""
    return prune_in_batches(sessionmaker(bind=db.get_bind()), retention_policy(settings, now=NOW), pause=0)


def execution_ids(db: Session) -> set[str]:
    db.expire_all()
    return set(db.scalars(select(JobExecution.id)))


def notification_ids(db: Session) -> set[str]:
    db.expire_all()
    return set(db.scalars(select(Notification.id)))


def test_old_executions_go_and_young_ones_stay(db: Session, settings: Settings, factory: Factory, job: Job) -> None:
    factory.execution(job, started_at=OLD)
    young = factory.execution(job, started_at=YOUNG).id
    counts = prune(db, settings)
    assert execution_ids(db) == {young}
    assert counts.executions == 1


def test_execution_just_inside_the_window_stays(db: Session, settings: Settings, factory: Factory, job: Job) -> None:
    factory.execution(job, started_at=NOW - timedelta(days=181))
    edge = factory.execution(job, started_at=NOW - timedelta(days=179)).id
    young = factory.execution(job, started_at=YOUNG).id
    prune(db, settings)
    assert execution_ids(db) == {edge, young}


def test_running_execution_is_never_pruned(db: Session, settings: Settings, factory: Factory, job: Job) -> None:
    running = factory.execution(job, started_at=OLD, status="running").id
    factory.execution(job, started_at=YOUNG)
    prune(db, settings)
    assert running in execution_ids(db)


def test_a_jobs_newest_execution_stays_however_old(db: Session, settings: Settings, factory: Factory, job: Job) -> None:
    factory.execution(job, started_at=OLD - timedelta(days=30), status="failed")
    newest = factory.execution(job, started_at=OLD).id
    prune(db, settings)
    assert execution_ids(db) == {newest}


def test_newest_is_kept_per_job(db: Session, settings: Settings, factory: Factory, owner: User, job: Job) -> None:
    other = factory.job(owner)
    factory.execution(job, started_at=OLD - timedelta(days=1))
    keep_a = factory.execution(job, started_at=OLD).id
    keep_b = factory.execution(other, started_at=OLD - timedelta(days=50)).id
    prune(db, settings)
    assert execution_ids(db) == {keep_a, keep_b}


def test_old_notifications_go_read_or_unread(db: Session, settings: Settings, factory: Factory, owner: User) -> None:
    factory.notification(owner, created_at=NOW - timedelta(days=91), is_read=False)
    factory.notification(owner, created_at=NOW - timedelta(days=91), is_read=True, read_at=NOW - timedelta(days=91))
    young = factory.notification(owner, created_at=NOW - timedelta(days=89)).id
    counts = prune(db, settings)
    assert notification_ids(db) == {young}
    assert counts.notifications == 2


def test_notification_about_a_pruned_execution_stays_with_a_null_reference(
    db: Session, settings: Settings, factory: Factory, owner: User, job: Job
) -> None:
    old = factory.execution(job, started_at=OLD, status="failed").id
    factory.execution(job, started_at=YOUNG)
    note = factory.notification(owner, created_at=YOUNG, related_job_id=job.id, related_execution_id=old).id
    prune(db, settings)
    db.expire_all()
    kept = db.get(Notification, note)
    assert kept is not None
    assert (kept.related_execution_id, kept.related_job_id) == (None, job.id)


def test_ten_rows_with_batch_size_three_take_four_execution_transactions(
    db: Session, database_url: str, factory: Factory, job: Job
) -> None:
    for day in range(10):
        factory.execution(job, started_at=OLD - timedelta(days=day))
    newest = factory.execution(job, started_at=YOUNG).id
    counts = prune(db, make_settings(database_url, RETENTION_BATCH_SIZE=3, NOTIFICATION_RETENTION_DAYS=0))
    assert execution_ids(db) == {newest}
    # Four for executions, one (empty) each for expired revocations and tombstones.
    assert (counts.executions, counts.batches) == (10, 6)


def test_batches_go_oldest_first(db: Session, settings: Settings, factory: Factory, job: Job) -> None:
    oldest = {factory.execution(job, started_at=OLD - timedelta(days=10 + i)).id for i in range(3)}
    factory.execution(job, started_at=OLD)
    factory.execution(job, started_at=YOUNG)
    removed = prune_executions_batch(db, NOW - timedelta(days=180), 3)
    db.commit()
    assert removed == 3
    assert not oldest & execution_ids(db)


def test_zero_days_keeps_everything_forever(
    db: Session, database_url: str, factory: Factory, owner: User, job: Job
) -> None:
    factory.execution(job, started_at=OLD - timedelta(days=3000))
    factory.execution(job, started_at=OLD)
    factory.notification(owner, created_at=OLD)
    keep_all = make_settings(database_url, EXECUTION_RETENTION_DAYS=0, NOTIFICATION_RETENTION_DAYS=0)
    counts = prune(db, keep_all)
    assert (len(execution_ids(db)), len(notification_ids(db))) == (2, 1)
    # Only the always-on steps ran, one empty batch each.
    assert counts == PruneCounts(batches=2)
    assert [table for table, _step in batch_steps(retention_policy(keep_all))] == ["revoked_tokens", "job_deletions"]


def test_dry_run_counts_match_what_a_prune_removes_and_delete_nothing(
    db: Session, settings: Settings, factory: Factory, owner: User, job: Job
) -> None:
    factory.execution(job, started_at=OLD - timedelta(days=2))
    factory.execution(job, started_at=OLD - timedelta(days=1), status="running")
    factory.execution(job, started_at=OLD)
    factory.execution(job, started_at=YOUNG)
    factory.notification(owner, created_at=OLD)
    expected = prunable_counts(db, retention_policy(settings, now=NOW))
    assert (expected.executions, expected.notifications) == (2, 1)
    assert (len(execution_ids(db)), len(notification_ids(db))) == (4, 1)
    counts = prune(db, settings)
    assert (counts.executions, counts.notifications) == (expected.executions, expected.notifications)


def test_default_cutoffs_are_measured_from_now(settings: Settings) -> None:
    before = utcnow()
    policy = retention_policy(settings)
    assert policy.execution_cutoff is not None and policy.notification_cutoff is not None
    assert before - timedelta(days=180) <= policy.execution_cutoff <= utcnow() - timedelta(days=180)
    assert before - timedelta(days=90) <= policy.notification_cutoff <= utcnow() - timedelta(days=90)


@pytest.mark.parametrize("value", ["3:7", "03:17", " 23:59 "])
def test_retention_time_accepts_hours_and_minutes(value: str) -> None:
    settings = make_settings("sqlite://", RETENTION_TIME=value)
    hour, minute = settings.retention_hour_minute
    assert f"{hour:02d}:{minute:02d}" == settings.RETENTION_TIME


@pytest.mark.parametrize("overrides", [
    {"RETENTION_TIME": "24:00"}, {"RETENTION_TIME": "3pm"}, {"RETENTION_TIME": "03:60"},
    {"EXECUTION_RETENTION_DAYS": -1}, {"NOTIFICATION_RETENTION_DAYS": -5},
    {"RETENTION_BATCH_SIZE": 0}, {"RETENTION_BATCH_SIZE": 10001},
])
def test_invalid_retention_settings_are_refused_at_start(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        make_settings("sqlite://", **overrides)

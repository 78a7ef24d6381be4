"""`python -m src.cli prune [--dry-run]`: what an operator sees and what is left in the database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from src.cli import main
from src.models import Job, JobDeletion, JobExecution, Notification, RevokedToken, User, utcnow
from tests.conftest import Factory
from tests.settings_env import isolate_settings


@pytest.fixture(autouse=True)
def cli_environment(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    """The CLI reads settings like production does, here from this test's environment only."""
    isolate_settings(monkeypatch)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("RETENTION_BATCH_SIZE", "2")


@pytest.fixture
def owner(factory: Factory) -> User:
    return factory.user("user")


@pytest.fixture
def old_rows(factory: Factory, owner: User) -> Job:
    """Five old executions plus the job's newest, two old notifications plus a fresh one."""
    job = factory.job(owner)
    now = utcnow()
    for day in range(5):
        factory.execution(job, started_at=now - timedelta(days=300 + day))
    factory.execution(job, started_at=now)
    for _ in range(2):
        factory.notification(owner, created_at=now - timedelta(days=100))
    factory.notification(owner)
    return job


def counts(db: Session) -> tuple[int, int]:
    db.expire_all()
    executions = db.scalar(select(func.count()).select_from(JobExecution))
    notifications = db.scalar(select(func.count()).select_from(Notification))
    return executions or 0, notifications or 0


def test_dry_run_prints_what_would_go_and_deletes_nothing(
    db: Session, old_rows: Job, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["prune", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "executions: would remove 5 started before" in out
    assert "notifications: would remove 2 created before" in out
    assert counts(db) == (6, 3)


def test_prune_removes_old_rows_in_batches_and_says_so(
    db: Session, old_rows: Job, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["prune"]) == 0
    out = capsys.readouterr().out
    assert "executions: removed 5 started before" in out
    assert "notifications: removed 2 created before" in out
    # Notifications 2 + 0 (a full batch, then an empty one), executions 2 + 2 + 1, then one
    # (empty) batch each for expired revocations and tombstones.
    assert "7 batch(es) of at most 2" in out
    assert counts(db) == (1, 1)


def test_zero_days_is_reported_as_kept_forever(
    monkeypatch: pytest.MonkeyPatch, db: Session, old_rows: Job, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("EXECUTION_RETENTION_DAYS", "0")
    assert main(["prune"]) == 0
    out = capsys.readouterr().out
    assert "executions: kept forever (EXECUTION_RETENTION_DAYS=0)" in out
    assert counts(db) == (6, 1)


def test_prune_removes_expired_revocations_and_old_tombstones(db: Session, capsys: pytest.CaptureFixture[str]) -> None:
    db.add(RevokedToken(jti="expired", expires_at=utcnow() - timedelta(days=1)))
    db.add(RevokedToken(jti="live", expires_at=utcnow() + timedelta(days=1)))
    db.add(JobDeletion(job_id="gone", deleted_at=utcnow() - timedelta(days=2)))
    db.commit()
    assert main(["prune"]) == 0
    out = capsys.readouterr().out
    assert "revoked tokens: removed 1 already expired" in out
    assert "job-deletion tombstones: removed 1 older than a day" in out
    db.expire_all()
    assert db.scalars(select(RevokedToken.jti)).all() == ["live"]
    assert db.scalars(select(JobDeletion)).all() == []

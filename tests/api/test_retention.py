"""After a retention prune the execution, statistics, job and notification reads still answer per
the contract on both doors: counts shrink to what is kept, nothing else changes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from src.config import Settings
from src.core import tokens
from src.core.retention import PruneCounts, prune_in_batches, retention_policy
from src.models import Job, JobDeletion, RevokedToken, User, utcnow
from tests.api.conftest import ApiClient
from tests.conftest import Factory


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"EXECUTION_RETENTION_DAYS": 180, "NOTIFICATION_RETENTION_DAYS": 90, "RETENTION_BATCH_SIZE": 2}


@pytest.fixture
def token(factory: Factory, viewer: User) -> str:
    return factory.token(viewer)


@pytest.fixture
def idle(factory: Factory, user: User) -> Job:
    """A job that last ran a year ago: only its newest execution survives."""
    job = factory.job(user, name="Idle")
    year_ago = utcnow() - timedelta(days=365)
    for day in range(1, 4):
        factory.execution(job, started_at=year_ago - timedelta(days=day), status="failed", duration_seconds=9.0)
    factory.execution(job, started_at=year_ago, status="success", duration_seconds=1.0)
    return job


@pytest.fixture
def busy(factory: Factory, user: User) -> Job:
    """A job with one old and two recent executions."""
    job = factory.job(user, name="Busy")
    now = utcnow()
    factory.execution(job, started_at=now - timedelta(days=200), status="failed", duration_seconds=5.0)
    factory.execution(job, started_at=now - timedelta(days=2), status="success", duration_seconds=2.0)
    factory.execution(job, started_at=now - timedelta(days=1), status="running")
    return job


def prune(db: Session, settings: Settings) -> PruneCounts:
    return prune_in_batches(sessionmaker(bind=db.get_bind()), retention_policy(settings), pause=0)


def test_job_stats_after_a_prune_count_what_is_kept(
    api: ApiClient, db: Session, settings: Settings, idle: Job, busy: Job, token: str
) -> None:
    assert prune(db, settings).executions == 4
    idle_stats = api.get(f"/jobs/{idle.id}/executions/stats", token=token)
    busy_stats = api.get(f"/jobs/{busy.id}/executions/stats", token=token)
    assert (idle_stats.status_code, busy_stats.status_code) == (200, 200)
    assert idle_stats.json()["statistics"] == {
        "total_executions": 1, "success_count": 1, "failed_count": 0, "running_count": 0,
        "success_rate": 100.0, "average_duration_seconds": 1.0,
    }
    assert busy_stats.json()["statistics"] == {
        "total_executions": 2, "success_count": 1, "failed_count": 0, "running_count": 1,
        "success_rate": 50.0, "average_duration_seconds": 2.0,
    }


def test_latest_execution_and_last_execution_at_are_unchanged_by_a_prune(
    api: ApiClient, db: Session, settings: Settings, idle: Job, busy: Job, token: str
) -> None:
    def reads() -> tuple[Any, ...]:
        jobs = {j["id"]: j["last_execution_at"] for j in api.get("/jobs", token=token).json()["jobs"]}
        latest = [
            api.get(f"/jobs/{j.id}/executions/stats", token=token).json()["latest_execution"] for j in (idle, busy)
        ]
        return jobs, latest

    before = reads()
    prune(db, settings)
    assert reads() == before
    assert before[0][idle.id] is not None


def test_overall_statistics_after_a_prune(
    api: ApiClient, db: Session, settings: Settings, idle: Job, busy: Job, token: str
) -> None:
    prune(db, settings)
    response = api.get("/executions/statistics", token=token)
    assert response.status_code == 200
    body = response.json()
    assert (body["total_executions"], body["successful_executions"], body["failed_executions"],
            body["running_executions"]) == (3, 2, 0, 1)
    assert body["average_duration_seconds"] == 1.5


def test_a_pruned_execution_answers_404_and_its_notification_stays_unlinked(
    api: ApiClient, db: Session, settings: Settings, factory: Factory, busy: Job, viewer: User, token: str
) -> None:
    old = factory.execution(busy, started_at=utcnow() - timedelta(days=300), status="failed").id
    note = factory.notification(viewer, title="Job Failed", type="error", related_job_id=busy.id,
                                related_execution_id=old).id
    prune(db, settings)
    gone = api.get(f"/jobs/{busy.id}/executions/{old}", token=token)
    assert gone.status_code == 404
    assert gone.json()["error"] == "Execution not found"
    assert api.get(f"/executions/{old}", token=token).status_code == 404
    listed = {n["id"]: n for n in api.get("/notifications", token=token).json()["notifications"]}
    assert (listed[note]["related_execution_id"], listed[note]["related_job_id"]) == (None, busy.id)


# --- revocations and tombstones (issue 15): tables that only grew -------------------------------


def _logged_out_token(api: ApiClient, factory: Factory, user: User) -> str:
    token = factory.token(user)
    assert api.post("/auth/logout", token=token).status_code == 200
    return token


def test_a_prune_forgets_expired_revocations_and_keeps_live_ones(
    api: ApiClient, db: Session, settings: Settings, factory: Factory, viewer: User
) -> None:
    expired, live = _logged_out_token(api, factory, viewer), _logged_out_token(api, factory, viewer)
    expired_jti = tokens.decode_token(settings, expired)["jti"]
    db.expire_all()
    db.get(RevokedToken, expired_jti).expires_at = utcnow() - timedelta(seconds=1)  # type: ignore[union-attr]  # None here fails the test, as it should
    db.commit()
    assert prune(db, settings).revoked_tokens == 1
    db.expire_all()
    assert db.get(RevokedToken, expired_jti) is None
    assert api.get("/auth/me", token=live).json()["error"] == "Token has been revoked"


def test_a_prune_deletes_job_deletion_tombstones_older_than_a_day(
    api: ApiClient, db: Session, settings: Settings, factory: Factory, admin: User
) -> None:
    token = factory.token(admin)
    old, recent = factory.job(admin, name="Old").id, factory.job(admin, name="Recent").id
    for job_id in (old, recent):
        assert api.delete(f"/jobs/{job_id}", token=token).status_code == 200
    db.expire_all()
    tombstone = db.scalars(select(JobDeletion).where(JobDeletion.job_id == old)).one()
    tombstone.deleted_at -= timedelta(days=2)
    db.commit()
    assert prune(db, settings).job_deletions == 1
    db.expire_all()
    assert set(db.scalars(select(JobDeletion.job_id))) == {recent}

"""Parity fixtures: both doors in-process on one database, and a seeded world to read."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from src.config import Settings
from src.core import tokens
from src.core.clock import local_today
from src.models import User, UserNotificationPreferences
from tests.conftest import Factory


@dataclass
class Doors:
    """One in-process client per door, both on the test database."""

    flask: httpx.Client
    fastapi: httpx.Client

    def pairs(self) -> list[tuple[str, httpx.Client, str]]:
        return [("flask", self.flask, "/api"), ("fastapi", self.fastapi, "/api/v2")]


def sqlite_path(settings: Settings) -> str:
    url = make_url(settings.DATABASE_URL)
    if url.get_backend_name() != "sqlite" or not url.database:
        pytest.skip("the parity suite snapshots a SQLite file")
    return url.database


class Snapshot:
    """A copy of the SQLite file taken with the backup API, restorable under open pools.

    Both doors' connections are idle between requests, and SQLite re-reads pages after the file
    changed, so a restore puts every connection back at the snapshot.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.copy = sqlite3.connect(":memory:")
        with sqlite3.connect(path, timeout=30) as source:
            source.backup(self.copy)

    def restore(self) -> None:
        target = sqlite3.connect(self.path, timeout=30)
        try:
            self.copy.backup(target)
        finally:
            target.close()

    def close(self) -> None:
        self.copy.close()


def at(day: int, hour: int = 10, minute: int = 0) -> datetime:
    """A fixed naive-UTC instant in January 2025 (reads must not depend on the clock)."""
    return datetime(2025, 1, day, hour, minute, 0, 123000)


@dataclass
class World:
    """Seeded rows (ids by name) and tokens (by role name) shared by every case."""

    ids: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)


def foreign_token(claims: dict[str, Any], secret: str) -> str:
    return jwt.encode(claims, secret, algorithm="HS256")


def seed_world(factory: Factory, db: Session, settings: Settings, target_url: str) -> World:
    """Users of every role, teams, categories, jobs, executions, notifications and preferences."""
    world = World()
    admin = factory.user("admin", username="alice", email="alice@example.com")
    owner = factory.user("user", username="bob", email="bob@example.com")
    other = factory.user("user", username="carol", email="carol@example.com")
    viewer = factory.user("viewer", username="dave", email="dave@example.com")
    inactive = factory.user("user", username="erin", email="erin@example.com", is_active=False)
    ghost = factory.user("user", username="ghost", email="ghost@example.com")
    team = factory.team("Team A", slug="team-a", slack_handle="@team-a")
    old_team = factory.team("Old Team", slug="old-team", slack_handle="@old", is_active=False)
    category = factory.category("Nightly Checks")
    old_category = factory.category("Legacy", is_active=False)
    future_end = local_today(settings.scheduler_tz) + timedelta(days=60)

    admin_job = factory.job(admin, name="admin-webhook", target_url=target_url, category="nightly-checks",
                            end_date=future_end, notification_emails="ops@example.com, dev@example.com",
                            enable_email_notifications=True)
    owner_job = factory.job(owner, name="owner-github", target_url=None, github_owner="acme",
                            github_repo="api", github_workflow_name="run.yml",
                            job_metadata='{"branchDetails": "main", "suite": "smoke"}', end_date=future_end)
    paused_job = factory.job(owner, name="owner-paused", is_active=False, end_date=future_end,
                             cron_expression="30 4 * * 1")
    expired_job = factory.job(owner, name="owner-expired", end_date=date(2024, 12, 31))
    orphan_job = factory.job(None, name="orphan", cron_expression="0 0 31 2 *", end_date=None, pic_team=None)

    runs = [
        factory.execution(owner_job, status="success", trigger_type="scheduled", started_at=at(10),
                          completed_at=at(10, 10, 1), duration_seconds=1.5, execution_type="github_actions",
                          target="acme/api/run.yml", response_status=204, output="dispatched"),
        factory.execution(owner_job, status="failed", trigger_type="manual", started_at=at(11),
                          completed_at=at(11, 10, 2), duration_seconds=2.25, execution_type="github_actions",
                          target="acme/api/run.yml", response_status=500, error_message="boom"),
        factory.execution(owner_job, status="running", trigger_type="scheduled", started_at=at(12),
                          execution_type="github_actions", target="acme/api/run.yml"),
        factory.execution(admin_job, status="success", trigger_type="manual", started_at=at(13),
                          completed_at=at(13, 10, 1), duration_seconds=0.5, execution_type="webhook",
                          target=target_url, response_status=200, output="ok"),
    ]
    notes = [
        factory.notification(owner, title="Job Failed", message="owner-github failed", type="error",
                             related_job_id=owner_job.id, related_execution_id=runs[1].id, created_at=at(11, 11)),
        factory.notification(owner, title="Job Updated", message="read one", type="info", is_read=True,
                             read_at=at(12, 12), created_at=at(12, 11)),
        factory.notification(owner, title="New Job Created", message="x", type="success", created_at=at(14, 9)),
        factory.notification(other, title="Hello carol", message="not yours", created_at=at(14, 9)),
    ]
    db.add(UserNotificationPreferences(user_id=owner.id, email_on_job_success=False, daily_digest=True,
                                       created_at=at(5), updated_at=at(6)))
    db.commit()

    world.ids.update(
        admin=admin.id, owner=owner.id, other=other.id, viewer=viewer.id, inactive=inactive.id,
        team=team.id, old_team=old_team.id, category=category.id, old_category=old_category.id,
        admin_job=admin_job.id, owner_job=owner_job.id, paused_job=paused_job.id, expired_job=expired_job.id,
        orphan_job=orphan_job.id, run_success=runs[0].id, run_failed=runs[1].id, run_running=runs[2].id,
        run_admin=runs[3].id, note_unread=notes[0].id, note_read=notes[1].id, note_other=notes[3].id,
    )
    world.tokens.update(
        admin=factory.token(admin), user=factory.token(owner), other=factory.token(other),
        viewer=factory.token(viewer), inactive=factory.token(inactive),
        user_refresh=factory.token(owner, "refresh"), ghost=factory.token(ghost),
    )
    revoked = tokens.mint_token(settings, owner, "access", fresh=True)
    tokens.revoke(db, tokens.decode_token(settings, revoked.token))
    db.commit()
    world.tokens["revoked"] = revoked.token
    now = int(datetime.now(UTC).timestamp())
    claims = {"sub": owner.id, "type": "access", "jti": "expired-jti", "iat": now - 7200,
              "nbf": now - 7200, "exp": now - 3600, "role": "user", "email": owner.email}
    world.tokens["expired"] = foreign_token(claims, settings.jwt_secret)
    world.tokens["foreign"] = foreign_token({**claims, "exp": now + 3600}, "another-secret-of-enough-length!!")
    world.tokens["garbage"] = "not-a-jwt"
    db.delete(db.get(User, ghost.id))
    db.commit()
    return world

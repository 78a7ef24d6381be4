"""Shared fixtures: a migrated SQLite template copied per test, settings, row factories."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from src.config import Settings, legacy_door_installed
from src.core import tokens
from src.core.passwords import hash_password
from src.database.engines import create_sync_engine_from_settings, make_session_factory
from src.database.migrate import upgrade_to_head
from src.models import Job, JobCategory, JobExecution, Notification, PicTeam, User, utcnow
from tests import pg_databases

PASSWORD = "secret123"
# Tests of the legacy Flask door carry this mark; without the door they are deselected, and the
# `/api` half of tests/api runs against FastAPI through the cutover rewrite instead.
legacy_door = pytest.mark.legacy_door


def legacy_door_param(value: Any) -> Any:
    """A parametrize value that needs the Flask door (e.g. `"flask"`), marked `legacy_door`."""
    return pytest.param(value, marks=legacy_door)


# Modules that import the legacy door when imported: without it they are not collected at all.
collect_ignore = [] if legacy_door_installed() else ["proxy/test_upstream_errors.py", "unit/test_gunicorn_worker.py"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if legacy_door_installed():
        return
    needs_flask = [item for item in items if item.get_closest_marker("legacy_door")]
    if needs_flask:
        config.hook.pytest_deselected(items=needs_flask)
        items[:] = [item for item in items if not item.get_closest_marker("legacy_door")]
_PASSWORD_HASH = hash_password(PASSWORD)


def make_settings(database_url: str, **overrides: Any) -> Settings:
    """Settings for tests: isolated database, private targets allowed, no scheduler, no mail."""
    values: dict[str, Any] = {
        "DATABASE_URL": database_url,
        "FLASK_ENV": "development",
        "SECRET_KEY": "test-secret-key-of-at-least-32-bytes",
        "JWT_SECRET_KEY": "test-jwt-secret-key-of-at-least-32-bytes",
        "ALLOW_PRIVATE_TARGETS": True,
        "SCHEDULER_HOST": "none",
        "DEFAULT_GITHUB_OWNER": "default-org",
        "GITHUB_TOKEN": "",
        "GITHUB_API_BASE_URL": "http://127.0.0.1:9",
        "MAIL_ENABLED": True,
        "MAIL_USERNAME": "",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": 9,
        "MAIL_USE_TLS": False,
        "SCHEDULER_TIMEZONE": "Asia/Tokyo",
        "OUTBOUND_TIMEOUT_SECONDS": 5.0,
        # No nginx sends an in-process app shadow reads, and its comparer would listen on the
        # default FASTAPI_PORT/udp, a real deployment's (tests/proxy runs the comparer for real).
        "SHADOW_READS": False,
    }
    values.update(overrides)
    # _env_file=None: a developer's .env must not leak into tests.
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]  # pydantic-settings' _env_file is no declared field


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path | str]:
    """One database migrated to head; each test gets a copy.

    SQLite (default): a file. With TEST_DATABASE_URL: a PostgreSQL template database's name.
    """
    if pg_databases.requested_url():
        server = pg_databases.server_or_skip()
        server.drop_stale()
        name = pg_databases.template_name()
        server.drop(name)
        upgrade_to_head(make_settings(server.create(name)))
        yield name
        pg_databases.wait_for_drops()
        server.drop(name)
        return
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade_to_head(make_settings(f"sqlite:///{path}"))
    yield path


@pytest.fixture
def database_url(migrated_template: Path | str, tmp_path: Path) -> Iterator[str]:
    if isinstance(migrated_template, str):
        # CREATE DATABASE ... TEMPLATE copies the migrated schema and seed rows in one statement.
        server = pg_databases.PostgresServer(pg_databases.requested_url() or "")
        name = pg_databases.clone_name()
        yield server.create(name, template=migrated_template)
        server.drop_later(name)
        return
    path = tmp_path / "test.db"
    shutil.copyfile(migrated_template, path)
    yield f"sqlite:///{path}"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Override in a test module to change settings for its apps."""
    return {}


@pytest.fixture
def settings(database_url: str, settings_overrides: dict[str, Any]) -> Settings:
    return make_settings(database_url, **settings_overrides)


@pytest.fixture
def db(settings: Settings) -> Iterator[Session]:
    """A session on the test database for arranging and checking rows (commits are real)."""
    engine = create_sync_engine_from_settings(settings)
    session = make_session_factory(engine)()
    try:
        yield session
    finally:
        session.close()
        engine.dispose()


class Factory:
    """Small row builders: each commits, so the app under test sees the row."""

    def __init__(self, session: Session, settings: Settings) -> None:
        self.session = session
        self.settings = settings
        self._count = 0

    def _next(self) -> int:
        self._count += 1
        return self._count

    def user(self, role: str = "user", *, username: str | None = None, email: str | None = None,
             is_active: bool = True, password: str | None = None) -> User:
        n = self._next()
        user = User(
            username=username or f"{role}{n}",
            email=(email or f"{role}{n}@example.com").lower(),
            password_hash=hash_password(password) if password else _PASSWORD_HASH,
            role=role,
            is_active=is_active,
        )
        self.session.add(user)
        self.session.commit()
        return user

    def token(self, user: User, token_type: tokens.TokenType = "access") -> str:
        return tokens.mint_token(self.settings, user, token_type, fresh=token_type == "access").token

    def team(self, name: str = "Team A", *, slug: str | None = None, slack_handle: str | None = "@team-a",
             is_active: bool = True) -> PicTeam:
        from src.core.slugs import slugify

        team = PicTeam(name=name, slug=slug or slugify(name), slack_handle=slack_handle, is_active=is_active)
        self.session.add(team)
        self.session.commit()
        return team

    def category(self, name: str, *, slug: str | None = None, is_active: bool = True) -> JobCategory:
        from src.core.slugs import slugify

        category = JobCategory(name=name, slug=slug or slugify(name), is_active=is_active)
        self.session.add(category)
        self.session.commit()
        return category

    def job(self, owner: User | None = None, **fields: Any) -> Job:
        n = self._next()
        values: dict[str, Any] = {
            "name": f"job-{n}",
            "cron_expression": "0 2 * * *",
            "target_url": "http://127.0.0.1:9/hook",
            "category": "general",
            "end_date": date.today() + timedelta(days=60),
            "pic_team": "team-a",
            "is_active": True,
            "created_by": owner.id if owner else None,
        }
        values.update(fields)
        job = Job(**values)
        self.session.add(job)
        self.session.commit()
        return job

    def execution(self, job: Job, **fields: Any) -> JobExecution:
        values: dict[str, Any] = {
            "job_id": job.id,
            "status": "success",
            "trigger_type": "scheduled",
            "started_at": utcnow(),
        }
        values.update(fields)
        execution = JobExecution(**values)
        self.session.add(execution)
        self.session.commit()
        return execution

    def notification(self, user: User, **fields: Any) -> Notification:
        values: dict[str, Any] = {"user_id": user.id, "title": "Hello", "message": "World", "type": "info"}
        values.update(fields)
        notification = Notification(**values)
        self.session.add(notification)
        self.session.commit()
        return notification


@pytest.fixture
def factory(db: Session, settings: Settings) -> Factory:
    return Factory(db, settings)

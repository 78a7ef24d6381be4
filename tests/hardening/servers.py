"""Both doors as real servers (gunicorn + uvicorn) on one database: a SQLite file or PostgreSQL.

The PostgreSQL variant skips when no server answers, and fails instead with REQUIRE_POSTGRES=1.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session

from src.config import Settings
from src.database.engines import create_sync_engine_from_settings, make_session_factory
from src.database.migrate import upgrade_to_head
from src.models import User
from tests import pg_databases
from tests.conftest import Factory, make_settings
from tests.door_servers import SECRET, Door, start_doors, stop_processes


@dataclass
class Deployment:
    """Two doors over one database, an admin token and a session to check rows with."""

    doors: dict[str, Door]
    settings: Settings
    admin: User
    admin_token: str

    def session(self) -> Session:
        engine = create_sync_engine_from_settings(self.settings)
        return make_session_factory(engine)()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def deployment(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """A freshly migrated database with an admin and a team, served by both doors."""
    folder = tmp_path_factory.mktemp(f"hardening-{request.param}")
    server = None
    if request.param == "sqlite":
        url = f"sqlite:///{folder / 'app.db'}"
        upgrade_to_head(make_settings(url))
    else:
        server = pg_databases.server_or_skip()
        name = pg_databases.scratch_name("hardening")
        url = server.create(name)
        upgrade_to_head(make_settings(url))
    settings = make_settings(url, JWT_SECRET_KEY=SECRET)
    engine = create_sync_engine_from_settings(settings)
    with make_session_factory(engine)() as session:
        factory = Factory(session, settings)
        admin = factory.user("admin", username="race-admin", email="race-admin@example.com")
        factory.team("Team A", slug="team-a")
        token = factory.token(admin)
        session.expunge(admin)
    engine.dispose()
    doors, processes = start_doors(url, folder, flask_workers=2)  # two workers really race
    try:
        yield Deployment(doors, settings, admin, token)
    finally:
        stop_processes(processes)
        if server is not None:
            server.drop(name)
        else:
            shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def db(deployment: Deployment) -> Iterator[Session]:
    """A session on the deployment's database, to check rows with (its engine is the test's own)."""
    session = deployment.session()
    try:
        yield session
    finally:
        bind = session.get_bind()
        session.close()
        bind.dispose()  # type: ignore[union-attr]  # None here fails the test, as it should

"""Both doors as real servers (gunicorn + uvicorn) on one database: a SQLite file or PostgreSQL.

The PostgreSQL variant skips when no server answers, and fails instead with REQUIRE_POSTGRES=1.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from src.config import Settings
from src.database.engines import create_sync_engine_from_settings, make_session_factory
from src.database.migrate import upgrade_to_head
from src.models import User
from tests import pg_databases
from tests.conftest import Factory, make_settings
from tests.parity.test_cross_door_tokens import ROOT, SECRET, Door, free_port, wait_until_up


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


def _start(url: str, folder: Path) -> tuple[dict[str, Door], list[subprocess.Popen[bytes]]]:
    env = {key: value for key, value in os.environ.items() if key != "TEST_DATABASE_URL"}
    env.update(DATABASE_URL=url, FLASK_ENV="development", SECRET_KEY="hardening-secret-key",
               JWT_SECRET_KEY=SECRET, SCHEDULER_HOST="none", MAIL_ENABLED="false", ALLOW_PRIVATE_TARGETS="true",
               DEFAULT_GITHUB_OWNER="default-org", PYTHONPATH=str(ROOT))
    flask_port, fastapi_port = free_port(), free_port()
    commands = {
        # Two sync workers: two processes really race on the database, as in production.
        "flask": [str(ROOT / ".venv/bin/gunicorn"), "--bind", f"127.0.0.1:{flask_port}", "--workers", "2",
                  "src.flask_app.wsgi:create_wsgi_app()"],
        "fastapi": [str(ROOT / ".venv/bin/uvicorn"), "--factory", "src.fastapi_app.main:create_app",
                    "--host", "127.0.0.1", "--port", str(fastapi_port)],
    }
    bases = {"flask": f"http://127.0.0.1:{flask_port}/api", "fastapi": f"http://127.0.0.1:{fastapi_port}/api/v2"}
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for name, command in commands.items():
            log = folder / f"{name}.log"
            with log.open("wb") as out:
                processes.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT))
            wait_until_up(processes[-1], bases[name] + "/health", log)
    except BaseException:
        _stop(processes)
        raise
    return {name: Door(name, base) for name, base in bases.items()}, processes


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


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
    doors, processes = _start(url, folder)
    try:
        yield Deployment(doors, settings, admin, token)
    finally:
        _stop(processes)
        if server is not None:
            server.drop(name)
        else:
            shutil.rmtree(folder, ignore_errors=True)

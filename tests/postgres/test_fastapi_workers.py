"""FASTAPI_WORKERS=2 on PostgreSQL: one scheduler, every fire once across a worker kill, writes
seen by both workers, one /metrics (the scenario: tests/scheduler/fastapi_workers.py).

Skips with the reason when no server answers (TEST_DATABASE_URL, default 127.0.0.1:5432);
fails instead when REQUIRE_POSTGRES=1.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from src.database.migrate import upgrade_to_head
from tests import pg_databases
from tests.conftest import make_settings
from tests.scheduler.fastapi_workers import run_two_worker_scenario

pytestmark = pytest.mark.postgres


def test_two_fastapi_workers_on_postgres(tmp_path: Path) -> None:
    server = pg_databases.server_or_skip()
    name = pg_databases.scratch_name("workers")
    settings = make_settings(server.create(name))
    try:
        upgrade_to_head(settings)
        run_two_worker_scenario(settings, tmp_path)
    finally:
        server.drop(name)

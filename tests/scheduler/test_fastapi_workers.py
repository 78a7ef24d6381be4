"""FASTAPI_WORKERS=2 on the test database (SQLite here; tests/postgres runs it on PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

from src.config import Settings
from tests.scheduler.fastapi_workers import run_two_worker_scenario


def test_two_fastapi_workers_one_scheduler_every_fire_once_writes_seen_by_both(
    settings: Settings, tmp_path: Path
) -> None:
    run_two_worker_scenario(settings, tmp_path)

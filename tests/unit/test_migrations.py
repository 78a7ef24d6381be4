"""Alembic on an empty SQLite file: full schema, no drift from the models, categories seeded once."""

from __future__ import annotations

from pathlib import Path

import pytest

from src.config import Settings
from tests.conftest import make_settings
from tests.schema_checks import MigrationChecks


class TestMigrationsOnSqlite(MigrationChecks):
    @pytest.fixture
    def empty_database(self, tmp_path: Path) -> Settings:
        return make_settings(f"sqlite:///{tmp_path / 'empty.db'}")

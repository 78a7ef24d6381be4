"""Alembic on an empty PostgreSQL database: full schema, no drift, categories seeded once.

The server is TEST_DATABASE_URL's (default 127.0.0.1:5432); each test gets a new empty database.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from src.config import Settings
from tests import pg_databases
from tests.conftest import make_settings
from tests.schema_checks import MigrationChecks

pytestmark = pytest.mark.postgres


class TestMigrationsOnPostgres(MigrationChecks):
    @pytest.fixture
    def empty_database(self) -> Iterator[Settings]:
        server = pg_databases.server_or_skip()
        name = pg_databases.scratch_name("schema")
        yield make_settings(server.create(name))
        server.drop(name)

"""Alembic on an empty PostgreSQL database: full schema, no drift, categories seeded once.

The server is TEST_DATABASE_URL's (default 127.0.0.1:5432); each test gets a new empty database.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from src.config import Settings
from src.database.migrate import upgrade_to_head
from src.models import Base
from tests import pg_databases
from tests.conftest import make_settings
from tests.schema_checks import (
    DEFAULT_CATEGORY_SLUGS,
    category_slug_counts,
    rerun_seed,
    schema_differences,
    table_names,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def empty_postgres() -> Iterator[Settings]:
    server = pg_databases.server_or_skip()
    name = pg_databases.scratch_name("schema")
    settings = make_settings(server.create(name))
    yield settings
    server.drop(name)


def test_upgrade_head_creates_every_model_table(empty_postgres: Settings) -> None:
    upgrade_to_head(empty_postgres)
    assert table_names(empty_postgres) == set(Base.metadata.tables) | {"alembic_version"}


def test_autogenerate_finds_no_difference_between_models_and_migrations(empty_postgres: Settings) -> None:
    upgrade_to_head(empty_postgres)
    assert schema_differences(empty_postgres) == []


def test_default_categories_are_seeded_once(empty_postgres: Settings) -> None:
    upgrade_to_head(empty_postgres)
    assert category_slug_counts(empty_postgres) == dict.fromkeys(DEFAULT_CATEGORY_SLUGS, 1)


def test_seed_migration_run_again_adds_no_duplicates(empty_postgres: Settings) -> None:
    upgrade_to_head(empty_postgres)
    rerun_seed(empty_postgres)
    assert category_slug_counts(empty_postgres) == dict.fromkeys(DEFAULT_CATEGORY_SLUGS, 1)


def test_cli_migrate_twice_keeps_one_set_of_categories(
    empty_postgres: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from src.cli import main

    monkeypatch.setenv("DATABASE_URL", empty_postgres.DATABASE_URL)
    monkeypatch.setenv("FLASK_ENV", "development")
    assert main(["migrate"]) == 0
    assert main(["migrate"]) == 0
    assert category_slug_counts(empty_postgres) == dict.fromkeys(DEFAULT_CATEGORY_SLUGS, 1)

"""Alembic on an empty SQLite file: full schema, no drift from the models, categories seeded once."""

from __future__ import annotations

from pathlib import Path

import pytest

from src.config import Settings
from src.database.migrate import upgrade_to_head
from src.models import Base
from tests.conftest import make_settings
from tests.schema_checks import (
    DEFAULT_CATEGORY_SLUGS,
    category_slug_counts,
    rerun_seed,
    schema_differences,
    table_names,
)


@pytest.fixture
def empty_sqlite(tmp_path: Path) -> Settings:
    return make_settings(f"sqlite:///{tmp_path / 'empty.db'}")


def test_upgrade_head_creates_every_model_table(empty_sqlite: Settings) -> None:
    upgrade_to_head(empty_sqlite)
    assert table_names(empty_sqlite) == set(Base.metadata.tables) | {"alembic_version"}


def test_autogenerate_finds_no_difference_between_models_and_migrations(empty_sqlite: Settings) -> None:
    upgrade_to_head(empty_sqlite)
    assert schema_differences(empty_sqlite) == []


def test_default_categories_are_seeded_once(empty_sqlite: Settings) -> None:
    upgrade_to_head(empty_sqlite)
    assert category_slug_counts(empty_sqlite) == dict.fromkeys(DEFAULT_CATEGORY_SLUGS, 1)


def test_seed_migration_run_again_adds_no_duplicates(empty_sqlite: Settings) -> None:
    upgrade_to_head(empty_sqlite)
    rerun_seed(empty_sqlite)
    assert category_slug_counts(empty_sqlite) == dict.fromkeys(DEFAULT_CATEGORY_SLUGS, 1)


def test_cli_migrate_twice_keeps_one_set_of_categories(
    empty_sqlite: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from src.cli import main

    monkeypatch.setenv("DATABASE_URL", empty_sqlite.DATABASE_URL)
    monkeypatch.setenv("FLASK_ENV", "development")
    assert main(["migrate"]) == 0
    assert main(["migrate"]) == 0
    assert capsys.readouterr().out.count("database migrated to head") == 2
    assert category_slug_counts(empty_sqlite) == dict.fromkeys(DEFAULT_CATEGORY_SLUGS, 1)

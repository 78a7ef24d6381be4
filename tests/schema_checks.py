"""Checks of the migrations shared by the SQLite run (tests/unit) and the PostgreSQL run."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Select, func, inspect, select

from src.config import Settings
from src.core.login_throttle import ACCOUNT_BY_NAME
from src.database.engines import create_sync_engine_from_settings
from src.database.migrate import alembic_config, upgrade_to_head
from src.models import Base, JobCategory

DEFAULT_CATEGORY_SLUGS = {
    "general", "regression", "dr-testing", "feature-testing", "prod-canary", "refund",
    "backward-compatibility",
}
FIRST_REVISION = "0001_initial"
SEED_REVISION = "0002_seed_categories"


def schema_differences(settings: Settings) -> list[Any]:
    """What autogenerate would write for this database: empty when models and migrations agree."""
    engine = create_sync_engine_from_settings(settings)
    try:
        with engine.connect() as connection, warnings.catch_warnings():
            # SQLite cannot reflect an index on an expression, so autogenerate skips
            # ix_users_username_lower there (and says so); the login-lookup plan test checks it.
            warnings.filterwarnings("ignore", message=".*expression-based index '?ix_users_username_lower")
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def plan_of(settings: Settings, statement: Select[Any]) -> str:
    """The database's plan for `statement`, as text. PostgreSQL is told to avoid sequential scans,
    so on an empty table it still shows whether an index can serve the query."""
    engine = create_sync_engine_from_settings(settings)
    try:
        with engine.connect() as connection:
            sql = str(statement.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql("SET enable_seqscan = off")
                return "\n".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {sql}"))
            return "\n".join(row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
    finally:
        engine.dispose()


def table_names(settings: Settings) -> set[str]:
    engine = create_sync_engine_from_settings(settings)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def category_slug_counts(settings: Settings) -> dict[str, int]:
    engine = create_sync_engine_from_settings(settings)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(JobCategory.slug, func.count()).group_by(JobCategory.slug)
            ).all()
        return {slug: count for slug, count in rows}
    finally:
        engine.dispose()


def rerun_seed(settings: Settings) -> None:
    """Run the seed migration a second time on a database that already has the categories.

    Stamping (not downgrading) moves the version back without touching rows.
    """
    config = alembic_config(settings)
    command.stamp(config, FIRST_REVISION)
    command.upgrade(config, SEED_REVISION)
    command.stamp(config, "head")


class MigrationChecks:
    """Migration tests shared by both databases; a subclass provides `empty_database` (Settings)."""

    def test_upgrade_head_creates_every_model_table(self, empty_database: Settings) -> None:
        upgrade_to_head(empty_database)
        assert table_names(empty_database) == set(Base.metadata.tables) | {"alembic_version"}

    def test_autogenerate_finds_no_difference_between_models_and_migrations(
        self, empty_database: Settings
    ) -> None:
        upgrade_to_head(empty_database)
        assert schema_differences(empty_database) == []

    def test_a_login_attempt_finds_its_account_by_index_without_reading_every_user(
        self, empty_database: Settings
    ) -> None:
        upgrade_to_head(empty_database)
        plan = plan_of(empty_database, ACCOUNT_BY_NAME.params(name="Bob", folded="bob"))
        # Each arm of the OR is served by an index only if every arm has one (SQLite's MULTI-INDEX
        # OR, PostgreSQL's BitmapOr); otherwise the whole table is read (SCAN / Seq Scan).
        assert "ix_users_username_lower" in plan, plan
        assert "Seq Scan on users" not in plan and "SCAN users" not in plan, plan

    def test_default_categories_are_seeded_once(self, empty_database: Settings) -> None:
        upgrade_to_head(empty_database)
        assert category_slug_counts(empty_database) == dict.fromkeys(DEFAULT_CATEGORY_SLUGS, 1)

    def test_seed_migration_run_again_adds_no_duplicates(self, empty_database: Settings) -> None:
        upgrade_to_head(empty_database)
        rerun_seed(empty_database)
        assert category_slug_counts(empty_database) == dict.fromkeys(DEFAULT_CATEGORY_SLUGS, 1)

    def test_cli_migrate_twice_keeps_one_set_of_categories(
        self, empty_database: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        from src.cli import main

        monkeypatch.setenv("DATABASE_URL", empty_database.DATABASE_URL)
        monkeypatch.setenv("FLASK_ENV", "development")
        assert main(["migrate"]) == 0
        assert main(["migrate"]) == 0
        assert capsys.readouterr().out.count("database migrated to head") == 2
        assert category_slug_counts(empty_database) == dict.fromkeys(DEFAULT_CATEGORY_SLUGS, 1)

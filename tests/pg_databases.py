"""Throw-away PostgreSQL databases for tests: a migrated template per session, a clone per test.

The server comes from TEST_DATABASE_URL (its host, port and user; the database name in it is
not used). No server answering means skip, or fail when REQUIRE_POSTGRES=1 (CI).
"""

from __future__ import annotations

import itertools
import os
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

DEFAULT_TEST_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PREFIX = "cronjobs_"
_clone_numbers = itertools.count(1)
# Dropping a clone takes longer than the clone itself; one thread does it while the next test runs.
_dropper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pg-drop")
_pending_drops: list[Future[None]] = []


def requested_url() -> str | None:
    """TEST_DATABASE_URL when the run asks for PostgreSQL, else None (SQLite)."""
    return os.environ.get("TEST_DATABASE_URL") or None


def postgres_required() -> bool:
    return os.environ.get("REQUIRE_POSTGRES", "").strip().lower() in ("1", "true", "yes")


@dataclass(frozen=True)
class PostgresServer:
    """One server reached through its maintenance database, in autocommit."""

    url: str

    def url_for(self, database: str) -> str:
        return make_url(self.url).set(drivername="postgresql+psycopg", database=database).render_as_string(
            hide_password=False
        )

    def _connect(self, timeout: int = 30) -> psycopg.Connection:
        # Generous by default: a loaded machine can be slow to accept while tests hammer the server.
        conninfo = make_url(self.url).set(drivername="postgresql", database="postgres").render_as_string(
            hide_password=False
        )
        return psycopg.connect(conninfo, autocommit=True, connect_timeout=timeout)

    def create(self, database: str, template: str | None = None) -> str:
        """Create `database` (as a copy of `template` if given); returns its URL."""
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database))
        if template:
            statement = sql.SQL("{} TEMPLATE {}").format(statement, sql.Identifier(template))
        with self._connect() as connection:
            connection.execute(statement)
        return self.url_for(database)

    def drop(self, database: str) -> None:
        """Drop `database`, ending any connection a test's pool left open first."""
        with self._connect() as connection:
            connection.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (database,),
            )
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))

    def drop_later(self, database: str) -> None:
        """Drop `database` in the background; `wait_for_drops` collects the outcome."""
        _pending_drops.append(_dropper.submit(self._drop_with_retries, database))

    def _drop_with_retries(self, database: str, attempts: int = 3) -> None:
        for attempt in range(1, attempts + 1):
            try:
                self.drop(database)
                return
            except psycopg.OperationalError:
                if attempt == attempts:
                    raise

    def drop_stale(self) -> None:
        """Drop test databases whose pytest process is gone (a crashed or killed earlier run)."""
        with self._connect() as connection:
            names = [row[0] for row in connection.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s", (PREFIX + "%",)
            )]
        for name in names:
            pid = _owner_pid(name)
            if pid is not None and not _process_alive(pid):
                self.drop(name)


def wait_for_drops() -> None:
    """Wait for background drops and raise the first failure, so leaks do not go unnoticed."""
    pending = list(_pending_drops)
    _pending_drops.clear()
    for future in pending:
        future.result()


def _owner_pid(database: str) -> int | None:
    # Names are cronjobs_<kind>_<pid>[_<n>].
    parts = database.split("_")
    return int(parts[2]) if len(parts) >= 3 and parts[2].isdigit() else None


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def server_or_skip(url: str | None = None) -> PostgresServer:
    """The server at `url` (default TEST_DATABASE_URL, then the local default) if it answers."""
    server = PostgresServer(url or requested_url() or DEFAULT_TEST_DATABASE_URL)
    try:
        with server._connect(timeout=3):
            pass
    except psycopg.OperationalError as exc:
        detail = " ".join(str(exc).split())
        reason = f"PostgreSQL at {make_url(server.url).render_as_string()} does not answer: {detail}"
        if postgres_required():
            pytest.fail(f"REQUIRE_POSTGRES=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    return server


def template_name() -> str:
    return f"{PREFIX}tpl_{os.getpid()}"


def clone_name() -> str:
    return f"{PREFIX}test_{os.getpid()}_{next(_clone_numbers)}"


def scratch_name(label: str) -> str:
    return f"{PREFIX}{label}_{os.getpid()}_{next(_clone_numbers)}"

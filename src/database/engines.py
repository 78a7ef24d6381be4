"""Sync and async engines for one database: SQLite (default) or PostgreSQL via psycopg."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from src.config import Settings

SQLITE_BUSY_TIMEOUT_SECONDS = 30
SQLITE_POOL_SIZE = 10
# A PostgreSQL host that accepts TCP but never answers (frozen, black-holed) would otherwise hold a
# request for the OS's TCP timeout; with this bound it gets the 503 instead. A URL's own
# `?connect_timeout=` wins.
POSTGRES_CONNECT_TIMEOUT_SECONDS = 10


def _with_driver(database_url: str, sqlite_driver: str) -> str:
    url = make_url(database_url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        return url.set(drivername=sqlite_driver).render_as_string(hide_password=False)
    if backend == "postgresql":
        return url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return database_url


def sync_url(database_url: str) -> str:
    """The URL with a sync driver (sqlite / postgresql+psycopg)."""
    return _with_driver(database_url, "sqlite")


def async_url(database_url: str) -> str:
    """The URL with an async driver (sqlite+aiosqlite / postgresql+psycopg)."""
    return _with_driver(database_url, "sqlite+aiosqlite")


def is_sqlite(database_url: str) -> bool:
    return make_url(database_url).get_backend_name() == "sqlite"


def sqlite_file(database_url: str) -> Path | None:
    """The file of a SQLite database; None for PostgreSQL, in-memory and URI-named ones."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def _ensure_sqlite_folder(database_url: str) -> None:
    database = sqlite_file(database_url)
    if database is not None:
        database.parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers proceed while one writer commits; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _postgres_connect_args(database_url: str) -> dict[str, Any]:
    if "connect_timeout" in make_url(database_url).query:
        return {}
    return {"connect_timeout": POSTGRES_CONNECT_TIMEOUT_SECONDS}


def sync_engine_options(database_url: str) -> dict[str, Any]:
    """Engine keyword arguments shared by our engines and Flask-SQLAlchemy's."""
    if is_sqlite(database_url):
        # The pool keeps as many connections as a door runs request threads (8): a connection
        # past pool_size is closed when returned, and each new one re-reads the schema and runs
        # the pragmas, a cost paid per request once more are in flight than the pool keeps
        # (figures: docs/PERFORMANCE.md, "Figures behind the code").
        return {"pool_size": SQLITE_POOL_SIZE, "max_overflow": 5,
                "connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False}}
    # pre-ping: after a database restart every pooled connection is dead; each is replaced on
    # checkout instead of failing one request apiece.
    return {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 10,
            "connect_args": _postgres_connect_args(database_url)}


def _begin_before_savepoint(connection: Connection, _name: str | None) -> None:
    # pysqlite opens a transaction only before an INSERT/UPDATE/DELETE. A SAVEPOINT issued before
    # the unit's first one (a create's duplicate-safe insert) then opens SQLite's transaction
    # itself, and its RELEASE commits it: the job row was committed on its own and the broadcast
    # after it went in a second write transaction (a second turn for the write lock, and a
    # failure in between left the job without its notifications). BEGIN first keeps the
    # savepoint nested in the unit's one transaction, committed or rolled back whole.
    dbapi_connection = connection.connection.dbapi_connection
    if dbapi_connection is not None and not dbapi_connection.in_transaction:
        cursor = dbapi_connection.cursor()
        cursor.execute("BEGIN")
        cursor.close()


def install_sqlite_pragmas(engine: Engine) -> None:
    """Apply the SQLite pragmas on every new connection of a sync engine; savepoints nest in a transaction."""
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "savepoint", _begin_before_savepoint)


def create_sync_engine_from_settings(settings: Settings) -> Engine:
    url = sync_url(settings.DATABASE_URL)
    if is_sqlite(url):
        _ensure_sqlite_folder(url)
    engine = create_engine(url, **sync_engine_options(url))
    install_sqlite_pragmas(engine)
    return engine


def create_loop_reader_engine(settings: Settings) -> Engine | None:
    """One SQLite connection for reads run on an event loop (one thread, one read at a time).

    None for PostgreSQL, whose reads wait on the network and so never run on a loop.
    """
    url = sync_url(settings.DATABASE_URL)
    if not is_sqlite(url):
        return None
    _ensure_sqlite_folder(url)
    engine = create_engine(
        url, poolclass=StaticPool,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
    )
    install_sqlite_pragmas(engine)
    return engine


def create_async_engine_from_settings(
    settings: Settings, *, pool_size: int | None = None, max_overflow: int | None = None
) -> AsyncEngine:
    """The async engine; pool sizes default to 5+5 on SQLite and 10+10 on PostgreSQL."""
    url = async_url(settings.DATABASE_URL)
    if is_sqlite(url):
        _ensure_sqlite_folder(url)
        engine = create_async_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
            pool_size=5 if pool_size is None else pool_size,
            max_overflow=5 if max_overflow is None else max_overflow,
        )
    else:
        engine = create_async_engine(
            url, pool_pre_ping=True, connect_args=_postgres_connect_args(url),
            pool_size=10 if pool_size is None else pool_size,
            max_overflow=10 if max_overflow is None else max_overflow,
        )
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def make_async_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(bind=engine, expire_on_commit=False)

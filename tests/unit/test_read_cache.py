"""The read cache's own rules, on a stand-in app: the minute, the data version, what is kept."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.types import Message, Receive, Scope, Send

from src.config import Settings
from src.core import tokens
from src.database.data_version import DataVersion
from src.fastapi_app.read_cache import ReadCache, cached_paths
from src.models import User
from tests.conftest import make_settings

PREFIX = "/api/v2"


class CountingApp:
    """Answers every request with the number of requests it has answered (status `status`)."""

    def __init__(self) -> None:
        self.calls = 0
        self.status = 200

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.calls += 1
        start = {"type": "http.response.start", "status": self.status, "headers": [(b"content-type", b"text/plain")]}
        await send(start)
        await send({"type": "http.response.body", "body": str(self.calls).encode()})


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "data.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE t (x)")
    yield path


@pytest.fixture
def settings(database: Path) -> Settings:
    return make_settings(f"sqlite:///{database}")


@pytest.fixture
def probe(database: Path) -> Iterator[DataVersion]:
    version = DataVersion(str(database))
    yield version
    version.close()


@pytest.fixture
def token(settings: Settings) -> str:
    user = User(id="u-1", role="admin", email="a@example.com", token_version=0)
    return tokens.mint_token(settings, user, "access", fresh=True).token


@pytest.fixture
def app() -> CountingApp:
    return CountingApp()


@pytest.fixture
def clock() -> Clock:
    return Clock(1_800_000_030.0)  # half a minute past a minute boundary


@pytest.fixture
def cache(app: CountingApp, probe: DataVersion, settings: Settings, clock: Clock) -> ReadCache:
    return ReadCache(app, paths=cached_paths(PREFIX), max_bytes=1 << 20, data_version=lambda: probe,
                     settings=settings, count=lambda outcome: None, clock=clock)


def get(cache: ReadCache, path: str, token: str, *headers: tuple[bytes, bytes]) -> bytes:
    """One GET through the cache; the body it answered."""
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": path, "query_string": b"",
             "headers": [(b"authorization", f"Bearer {token}".encode()), *headers]}
    asyncio.run(cache(scope, receive, send))
    return b"".join(message.get("body", b"") for message in sent if message["type"] == "http.response.body")


def commit_elsewhere(database: Path) -> None:
    with sqlite3.connect(database) as connection:
        connection.execute("INSERT INTO t VALUES (1)")


def test_the_same_read_in_the_same_minute_is_answered_once(cache: ReadCache, app: CountingApp, token: str) -> None:
    assert get(cache, f"{PREFIX}/auth/me", token) == get(cache, f"{PREFIX}/auth/me", token) == b"1"
    assert app.calls == 1


def test_the_next_minute_works_the_answer_out_again(
        cache: ReadCache, app: CountingApp, token: str, clock: Clock) -> None:
    get(cache, f"{PREFIX}/jobs/j-1", token)
    clock.now += 60
    assert get(cache, f"{PREFIX}/jobs/j-1", token) == b"2"


def test_on_a_minute_boundary_nothing_is_kept(cache: ReadCache, app: CountingApp, token: str, clock: Clock) -> None:
    clock.now = 1_800_000_000.0
    get(cache, f"{PREFIX}/jobs/j-1", token)
    assert get(cache, f"{PREFIX}/jobs/j-1", token) == b"2"


def test_a_commit_by_another_connection_works_the_answer_out_again(
        cache: ReadCache, app: CountingApp, token: str, database: Path) -> None:
    get(cache, f"{PREFIX}/notifications/unread-count", token)
    commit_elsewhere(database)
    assert get(cache, f"{PREFIX}/notifications/unread-count", token) == b"2"


def test_an_error_answer_is_never_kept(cache: ReadCache, app: CountingApp, token: str) -> None:
    app.status = 404
    get(cache, f"{PREFIX}/jobs/missing", token)
    assert get(cache, f"{PREFIX}/jobs/missing", token) == b"2"


def test_a_path_outside_the_listed_reads_is_never_kept(cache: ReadCache, app: CountingApp, token: str) -> None:
    get(cache, f"{PREFIX}/scheduler/status", token)
    assert get(cache, f"{PREFIX}/scheduler/status", token) == b"2"


def test_answers_beyond_the_byte_budget_push_out_the_oldest(
        app: CountingApp, probe: DataVersion, settings: Settings, clock: Clock, token: str) -> None:
    small = ReadCache(app, paths=cached_paths(PREFIX), max_bytes=8, data_version=lambda: probe,
                      settings=settings, count=lambda outcome: None, clock=clock)
    for job in range(10):
        get(small, f"{PREFIX}/jobs/j-{job}", token)
    assert get(small, f"{PREFIX}/jobs/j-0", token) == b"11"


def test_a_conditional_request_is_always_worked_out(cache: ReadCache, app: CountingApp, token: str) -> None:
    get(cache, f"{PREFIX}/jobs", token)
    assert get(cache, f"{PREFIX}/jobs", token, (b"if-none-match", b'"etag"')) == b"2"

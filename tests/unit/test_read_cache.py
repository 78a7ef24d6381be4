"""The read cache's own rules, on a stand-in app: the minute, the data version, what is kept, gzip."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.datastructures import Headers
from starlette.types import Message, Receive, Scope, Send

from src.config import Settings
from src.core import tokens
from src.database.data_version import DataVersion
from src.fastapi_app import read_cache
from src.fastapi_app.read_cache import ReadCache, accepts_gzip, cached_paths
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


class JsonApp:
    """Answers every request with `body` as JSON, with a strong ETag (as the job list has)."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.calls = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.calls += 1
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-length", str(len(self.body)).encode()), (b"content-type", b"application/json"),
            (b"etag", b'"0123abcd"'), (b"cache-control", b"no-cache")]})
        await send({"type": "http.response.body", "body": self.body})


def json_body(size: int) -> bytes:
    """A JSON answer of about `size` bytes that compresses as real ones do (not to nothing)."""
    return json.dumps([os.urandom(16).hex() for _ in range(size // 36)]).encode()


def json_cache(app: JsonApp, probe: DataVersion, settings: Settings, clock: Clock,
               max_bytes: int = 1 << 24) -> ReadCache:
    return ReadCache(app, paths=cached_paths(PREFIX), max_bytes=max_bytes, data_version=lambda: probe,
                     settings=settings, count=lambda outcome: None, clock=clock)


def answer(cache: ReadCache, path: str, token: str, accept_encoding: str | None = None) -> tuple[Headers, bytes]:
    """One GET through the cache: the answer's headers and its body as sent (not decoded)."""
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        sent.append(message)

    headers = [(b"authorization", f"Bearer {token}".encode())]
    if accept_encoding is not None:
        headers.append((b"accept-encoding", accept_encoding.encode()))
    scope = {"type": "http", "method": "GET", "path": path, "query_string": b"", "headers": headers}
    asyncio.run(cache(scope, receive, send))
    start = next(message for message in sent if message["type"] == "http.response.start")
    body = b"".join(message.get("body", b"") for message in sent if message["type"] == "http.response.body")
    return Headers(raw=start["headers"]), body


@pytest.mark.parametrize(("accept_encoding", "gzip_allowed"), [
    ("gzip, deflate, br, zstd", True),
    ("gzip", True),
    ("x-gzip", True),
    ("br;q=1.0, GZIP;q=0.5", True),
    ("gzip;q=0", False),
    ("gzip; q=0.000", False),
    ("gzip;q=nonsense", False),
    ("identity", False),
    ("br, zstd", False),
    ("*", False),  # as for nginx: only a named gzip
    ("", False),
])
def test_gzip_is_chosen_by_the_accept_encoding_and_its_q_value(accept_encoding: str, gzip_allowed: bool) -> None:
    assert accepts_gzip(accept_encoding.encode()) is gzip_allowed


@pytest.mark.parametrize("size", [4_000, 200_000])  # compressed in the event loop, and in a thread
def test_a_kept_json_answer_is_given_gzipped_as_nginx_would_have_sent_it(
        probe: DataVersion, settings: Settings, clock: Clock, token: str, size: int) -> None:
    app = JsonApp(json_body(size))
    cache = json_cache(app, probe, settings, clock)
    answer(cache, f"{PREFIX}/jobs", token, "gzip")
    headers, body = answer(cache, f"{PREFIX}/jobs", token, "gzip, deflate, br")
    assert gzip.decompress(body) == app.body
    assert (headers["content-encoding"], headers["content-length"]) == ("gzip", str(len(body)))
    assert headers["vary"] == "Accept-Encoding"
    assert headers["etag"] == 'W/"0123abcd"'  # nginx weakens a strong ETag when it compresses
    assert app.calls == 1


@pytest.fixture
def compressions(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sizes of the bodies the read cache compresses, in order."""
    sizes: list[int] = []
    compress = gzip.compress

    def counting(data: bytes, *args: object, **kwargs: Any) -> bytes:
        sizes.append(len(data))
        return compress(data, *args, **kwargs)

    monkeypatch.setattr(read_cache.gzip, "compress", counting)
    return sizes


def test_the_gzipped_copy_is_made_once(
        probe: DataVersion, settings: Settings, clock: Clock, token: str, compressions: list[int]) -> None:
    cache = json_cache(JsonApp(json_body(4_000)), probe, settings, clock)
    for _ in range(4):
        answer(cache, f"{PREFIX}/jobs", token, "gzip")
    assert len(compressions) == 1


def test_an_answer_worked_out_again_to_the_same_bytes_keeps_its_gzipped_copy(
        probe: DataVersion, settings: Settings, clock: Clock, token: str, compressions: list[int]) -> None:
    app = JsonApp(json_body(4_000))
    cache = json_cache(app, probe, settings, clock)
    answer(cache, f"{PREFIX}/jobs", token, "gzip")
    answer(cache, f"{PREFIX}/jobs", token, "gzip")
    clock.now += 60  # the next minute: worked out again, the same bytes
    answer(cache, f"{PREFIX}/jobs", token, "gzip")
    _, body = answer(cache, f"{PREFIX}/jobs", token, "gzip")
    assert (app.calls, len(compressions)) == (2, 1)
    assert gzip.decompress(body) == app.body


@pytest.mark.parametrize("accept_encoding", [None, "identity", "gzip;q=0"])
def test_a_client_without_gzip_gets_the_plain_kept_answer(
        probe: DataVersion, settings: Settings, clock: Clock, token: str, accept_encoding: str | None) -> None:
    app = JsonApp(json_body(4_000))
    cache = json_cache(app, probe, settings, clock)
    answer(cache, f"{PREFIX}/jobs", token, "gzip")
    answer(cache, f"{PREFIX}/jobs", token, "gzip")
    headers, body = answer(cache, f"{PREFIX}/jobs", token, accept_encoding)
    assert body == app.body
    assert "content-encoding" not in headers
    assert headers["etag"] == '"0123abcd"'


def test_an_answer_under_a_kilobyte_is_given_plain(
        probe: DataVersion, settings: Settings, clock: Clock, token: str) -> None:
    app = JsonApp(b'{"count": 0, "jobs": []}')
    cache = json_cache(app, probe, settings, clock)
    answer(cache, f"{PREFIX}/jobs", token, "gzip")
    headers, body = answer(cache, f"{PREFIX}/jobs", token, "gzip")
    assert (body, "content-encoding" in headers) == (app.body, False)


def test_the_gzipped_copies_count_in_the_byte_budget(
        probe: DataVersion, settings: Settings, clock: Clock, token: str) -> None:
    app = JsonApp(json_body(4_000))
    cache = json_cache(app, probe, settings, clock, max_bytes=8 * len(app.body))
    for job in range(8):  # exactly the budget, plain
        answer(cache, f"{PREFIX}/jobs/j-{job}", token)
    answer(cache, f"{PREFIX}/jobs/j-7", token, "gzip")  # its copy pushes out the oldest answer
    answer(cache, f"{PREFIX}/jobs/j-0", token)
    assert app.calls == 9


class GatedApp:
    """Answers only once `gate` is open, with the number of requests it has answered."""

    def __init__(self, status: int = 200) -> None:
        self.calls = 0
        self.status = status
        self.gate = asyncio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.calls += 1
        await self.gate.wait()
        await send({"type": "http.response.start", "status": self.status, "headers": []})
        await send({"type": "http.response.body", "body": str(self.calls).encode()})


def at_once(cache: ReadCache, app: GatedApp, path: str, token: str, requests: int) -> list[bytes]:
    """`requests` GETs of `path` that all arrive before the first is answered; their bodies."""
    async def one() -> bytes:
        bodies: list[bytes] = []

        async def receive() -> Message:
            return {"type": "http.request", "body": b""}

        async def send(message: Message) -> None:
            bodies.append(message.get("body", b""))

        scope = {"type": "http", "method": "GET", "path": path, "query_string": b"",
                 "headers": [(b"authorization", f"Bearer {token}".encode())]}
        await cache(scope, receive, send)
        return b"".join(bodies)

    async def all_of_them() -> list[bytes]:
        tasks = [asyncio.create_task(one()) for _ in range(requests)]
        for _ in range(3):
            await asyncio.sleep(0)  # every request reaches the cache (the first one the app)
        app.gate.set()
        return list(await asyncio.gather(*tasks))

    return asyncio.run(all_of_them())


def test_reads_arriving_while_the_same_answer_is_worked_out_wait_for_it(
        probe: DataVersion, settings: Settings, clock: Clock, token: str) -> None:
    app = GatedApp()
    cache = ReadCache(app, paths=cached_paths(PREFIX), max_bytes=1 << 20, data_version=lambda: probe,
                      settings=settings, count=lambda outcome: None, clock=clock)
    assert at_once(cache, app, f"{PREFIX}/jobs", token, 5) == [b"1"] * 5
    assert app.calls == 1


def test_reads_that_waited_for_an_answer_not_kept_work_it_out_themselves(
        probe: DataVersion, settings: Settings, clock: Clock, token: str) -> None:
    app = GatedApp(status=404)
    cache = ReadCache(app, paths=cached_paths(PREFIX), max_bytes=1 << 20, data_version=lambda: probe,
                      settings=settings, count=lambda outcome: None, clock=clock)
    at_once(cache, app, f"{PREFIX}/jobs/missing", token, 3)
    assert app.calls == 3

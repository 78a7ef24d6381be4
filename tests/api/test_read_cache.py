"""The FastAPI door's read cache (src/fastapi_app/read_cache.py) never shows an older state.

A repeated read is answered from memory; every write, through either door or straight to the
database, and every token check still decides the next answer as without the cache.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from src.config import Settings
from src.models import User
from tests import pg_databases
from tests.api.conftest import DOORS, ApiClient, fastapi_http
from tests.conftest import Factory
from tests.observability.exposition import Scrape


@pytest.fixture
def v2(settings: Settings) -> Iterator[ApiClient]:
    with fastapi_http(settings) as http:
        yield ApiClient(http, "/api/v2")


@pytest.fixture(params=list(DOORS))
def writer(request: pytest.FixtureRequest, settings: Settings) -> Iterator[ApiClient]:
    """A client of either door, for the write the v2 reader must see."""
    with DOORS[request.param](settings) as http:
        yield ApiClient(http, request.param)


def hits(v2: ApiClient) -> float:
    return Scrape(v2.http.get("/metrics").text).value("read_cache_total", outcome="hit") or 0.0


def test_a_repeated_read_is_answered_from_memory_on_sqlite_and_afresh_on_postgresql(
        v2: ApiClient, admin: User, factory: Factory) -> None:
    token = factory.token(admin)
    job = factory.job(admin)
    first = v2.get(f"/jobs/{job.id}", token=token)
    before = hits(v2)
    again = v2.get(f"/jobs/{job.id}", token=token)
    assert again.status_code == first.status_code == 200
    assert again.content == first.content
    # PostgreSQL has no data_version: there the cache stays off (docs/API_CONTRACT.md, READ_CACHE_MB).
    assert hits(v2) == before + (0 if pg_databases.requested_url() else 1)


def test_a_write_through_either_door_is_seen_by_the_next_read(
        v2: ApiClient, writer: ApiClient, admin: User, factory: Factory) -> None:
    token = factory.token(admin)
    job = factory.job(admin)
    for _ in range(2):
        assert v2.get(f"/jobs/{job.id}", token=token).json()["job"]["cron_expression"] == "0 2 * * *"
    assert writer.put(f"/jobs/{job.id}", token=token, json={"cron_expression": "30 3 * * 1-5"}).status_code == 200
    assert v2.get(f"/jobs/{job.id}", token=token).json()["job"]["cron_expression"] == "30 3 * * 1-5"


def test_a_row_written_straight_to_the_database_is_seen_by_the_next_read(
        v2: ApiClient, user: User, factory: Factory) -> None:
    token = factory.token(user)
    for _ in range(2):
        assert v2.get("/notifications/unread-count", token=token).json()["unread_count"] == 0
    factory.notification(user)
    assert v2.get("/notifications/unread-count", token=token).json()["unread_count"] == 1


def test_a_logged_out_token_is_refused_after_a_kept_answer(v2: ApiClient, user: User, factory: Factory) -> None:
    token = factory.token(user)
    for _ in range(2):
        assert v2.get("/auth/me", token=token).status_code == 200
    assert v2.post("/auth/logout", token=token).status_code == 200
    refused = v2.get("/auth/me", token=token)
    assert refused.status_code == 401
    assert refused.json()["error"] == "Token has been revoked"


@pytest.mark.parametrize("settings_overrides", [{"JWT_ACCESS_TOKEN_EXPIRES": 2}])
def test_an_expired_token_is_refused_after_a_kept_answer(
        v2: ApiClient, user: User, factory: Factory, settings_overrides: dict[str, Any]) -> None:
    token = factory.token(user)
    for _ in range(2):
        assert v2.get("/auth/me", token=token).status_code == 200
    time.sleep(2.1)
    refused = v2.get("/auth/me", token=token)
    assert refused.status_code == 401
    assert refused.json()["error"] == "Token has expired"


def test_another_token_of_another_user_gets_its_own_answer(v2: ApiClient, factory: Factory) -> None:
    first, second = factory.user("user"), factory.user("viewer")
    assert v2.get("/auth/me", token=factory.token(first)).json()["user"]["username"] == first.username
    assert v2.get("/auth/me", token=factory.token(second)).json()["user"]["username"] == second.username


def test_a_kept_answer_carries_this_requests_own_id(v2: ApiClient, admin: User, factory: Factory) -> None:
    token = factory.token(admin)
    ids = [v2.get("/auth/me", token=token, headers={"X-Request-ID": f"probe-{n}"}).headers["X-Request-ID"]
           for n in range(3)]
    assert ids == ["probe-0", "probe-1", "probe-2"]


def test_a_head_request_gets_the_kept_answers_headers_without_its_body(
        v2: ApiClient, admin: User, factory: Factory) -> None:
    token = factory.token(admin)
    body = v2.get("/auth/me", token=token).content
    head = v2.request("HEAD", "/auth/me", token=token)
    assert head.status_code == 200
    assert head.content == b""
    assert int(head.headers["Content-Length"]) == len(body)


@pytest.mark.parametrize("settings_overrides", [{"READ_CACHE_MB": 0}])
def test_read_cache_mb_0_answers_every_read_afresh(
        v2: ApiClient, admin: User, factory: Factory, settings_overrides: dict[str, Any]) -> None:
    token = factory.token(admin)
    for _ in range(3):
        assert v2.get("/auth/me", token=token).status_code == 200
    assert hits(v2) == 0

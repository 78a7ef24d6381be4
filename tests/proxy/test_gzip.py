"""nginx compresses JSON answers over 1 KB for clients that accept gzip (deploy/nginx templates);
the v2 read cache gives its kept answers gzipped itself, with the headers nginx would have sent."""

from __future__ import annotations

import gzip
import json
import time
from datetime import date, timedelta

import httpx
import pytest

from tests.conftest import legacy_door
from tests.proxy.conftest import Stack

# Runs against the side-by-side deployment (gunicorn serves /api): needs the legacy door.
pytestmark = legacy_door


def _raw(stack: Stack, path: str, accept_encoding: str, token: str | None = None) -> tuple[httpx.Headers, bytes]:
    """The answer's headers and its body as sent on the wire (not decoded)."""
    headers = {"Accept-Encoding": accept_encoding}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    with httpx.Client(base_url=stack.base, timeout=30) as client, \
            client.stream("GET", path, headers=headers) as response:
        assert response.status_code == 200
        return response.headers, b"".join(response.iter_raw())


def test_a_large_json_answer_is_gzipped_on_both_prefixes(stack: Stack) -> None:
    for path, token in (("/api/v2/openapi.json", None), ("/api/categories", stack.token("/api"))):
        headers, body = _raw(stack, path, "gzip", token)
        assert headers["content-encoding"] == "gzip", path
        assert "Accept-Encoding" in headers["vary"]
        assert json.loads(gzip.decompress(body))


def test_a_small_json_answer_is_sent_plain(stack: Stack) -> None:
    headers, body = _raw(stack, "/api/health", "gzip")
    assert "content-encoding" not in headers
    assert json.loads(body)


def test_a_client_that_does_not_accept_gzip_gets_it_plain(stack: Stack) -> None:
    headers, body = _raw(stack, "/api/v2/openapi.json", "identity")
    assert "content-encoding" not in headers
    assert json.loads(body)


BROWSER = "gzip, deflate, br, zstd"
DOORS = ["/api", "/api/v2"]


@pytest.fixture(scope="module")
def list_token(stack: Stack) -> str:
    """A token, and enough jobs that the list is well over nginx's 1 KB gzip_min_length."""
    token = stack.token("/api/v2")
    auth = {"Authorization": f"Bearer {token}"}
    with stack.client() as client:
        team = client.post("/api/v2/pic-teams", headers=auth, json={"name": "Gzip Team", "slug": "gzip-team",
                                                                           "slack_handle": "@gzip"})
        assert team.status_code == 201, team.text
        for number in range(6):
            created = client.post("/api/v2/jobs", headers=auth, json={
                "name": f"gzip-job-{number}", "cron_expression": "0 3 * * *", "pic_team": "gzip-team",
                "target_url": f"https://hooks.example.com/gzip/{number}",
                "end_date": (date.today() + timedelta(days=300)).isoformat()})
            assert created.status_code == 201, created.text
    return token


Answer = tuple[httpx.Headers, bytes]


def _kept_list(stack: Stack, prefix: str, token: str) -> tuple[Answer, Answer]:
    """The list asked plainly, then by a browser, within one minute (v2: the second is a kept answer)."""
    while True:
        minute = int(time.time() // 60)
        plain = _raw(stack, f"{prefix}/jobs", "identity", token)
        browser = _raw(stack, f"{prefix}/jobs", BROWSER, token)
        if int(time.time() // 60) == minute:  # a new minute renders the list again: ask again
            return plain, browser


def _encodings(headers: httpx.Headers, name: str) -> list[str]:
    return [part.strip() for value in headers.get_list(name) for part in value.split(",")]


@pytest.mark.parametrize("prefix", DOORS)
def test_the_job_list_a_browser_gets_decompresses_to_exactly_the_plain_list(
        stack: Stack, list_token: str, prefix: str) -> None:
    (_, plain), (_, body) = _kept_list(stack, prefix, list_token)
    assert len(plain) > 1024
    assert gzip.decompress(body) == plain


@pytest.mark.parametrize("prefix", DOORS)
def test_the_job_list_a_browser_gets_is_compressed_once_and_varies_by_accept_encoding(
        stack: Stack, list_token: str, prefix: str) -> None:
    _, (headers, _) = _kept_list(stack, prefix, list_token)
    assert _encodings(headers, "content-encoding") == ["gzip"]
    assert _encodings(headers, "vary").count("Accept-Encoding") == 1


def test_the_kept_v2_job_list_is_the_read_caches_gzipped_copy(stack: Stack, list_token: str) -> None:
    # nginx's own compression streams (chunked); the kept copy says its length. The stack's scheduler
    # renews its lease every second, a commit after which the list is worked out (and compressed by
    # nginx) once more: a try whose plain read straddled one finds no kept answer, so several tries.
    answers = [_kept_list(stack, "/api/v2", list_token)[1] for _ in range(10)]
    assert any(headers.get("content-length") == str(len(body)) for headers, body in answers)


@pytest.mark.parametrize("prefix", DOORS)
def test_the_job_list_a_browser_gets_has_the_plain_lists_etag_weakened(
        stack: Stack, list_token: str, prefix: str) -> None:
    (plain_headers, _), (headers, _) = _kept_list(stack, prefix, list_token)
    assert plain_headers["etag"].startswith('"')
    assert headers["etag"] == "W/" + plain_headers["etag"]


@pytest.mark.parametrize("prefix", DOORS)
def test_the_etag_a_browser_got_revalidates_the_job_list(stack: Stack, list_token: str, prefix: str) -> None:
    _, (headers, _) = _kept_list(stack, prefix, list_token)
    response = httpx.get(f"{stack.base}{prefix}/jobs", timeout=30, headers={
        "Authorization": f"Bearer {list_token}", "Accept-Encoding": BROWSER, "If-None-Match": headers["etag"]})
    assert response.status_code == 304

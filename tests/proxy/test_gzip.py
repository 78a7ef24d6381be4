"""nginx compresses JSON answers over 1 KB for clients that accept gzip (deploy/nginx templates)."""

from __future__ import annotations

import gzip
import json

import httpx

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

"""Errors nginx or an app server answers before the app runs are JSON in the contract's envelope."""

from __future__ import annotations

import socket

import pytest

from tests.conftest import legacy_door
from tests.proxy.conftest import Stack

# Runs against the side-by-side deployment (gunicorn serves /api): needs the legacy door.
pytestmark = legacy_door

PREFIXES = ["/api", "/api/v2"]


def assert_envelope(response_status: int, content_type: str, body: dict[str, object], status: int) -> None:
    assert response_status == status
    assert content_type.startswith("application/json")
    assert isinstance(body.get("error"), str) and isinstance(body.get("message"), str)


@pytest.mark.parametrize("prefix", PREFIXES)
def test_trace_is_answered_405_in_the_envelope_with_allow(stack: Stack, prefix: str) -> None:
    with stack.client() as client:
        response = client.request("TRACE", f"{prefix}/health")
    assert_envelope(response.status_code, response.headers["content-type"], response.json(), 405)
    assert response.json()["error"] == "Method not allowed"
    assert "GET" in response.headers["allow"]


@pytest.mark.parametrize("prefix", PREFIXES)
def test_a_9_kib_request_line_is_answered_414_in_the_envelope(stack: Stack, prefix: str) -> None:
    with stack.client() as client:
        response = client.get(f"{prefix}/jobs", params={"q": "x" * 9 * 1024})
    assert_envelope(response.status_code, response.headers["content-type"], response.json(), 414)


@pytest.mark.parametrize("prefix", PREFIXES)
def test_a_9_kib_header_is_answered_431_in_the_envelope(stack: Stack, prefix: str) -> None:
    with stack.client() as client:
        response = client.get(f"{prefix}/health", headers={"X-Padding": "x" * 9 * 1024})
    assert_envelope(response.status_code, response.headers["content-type"], response.json(), 431)


@pytest.mark.parametrize("prefix", PREFIXES)
def test_a_request_line_nginx_passes_reaches_the_app_not_the_app_servers_own_refusal(
    stack: Stack, prefix: str
) -> None:
    # 6 KiB: over gunicorn's default 4 KiB line limit, under nginx's 8 KiB.
    with stack.client() as client:
        response = client.get(f"{prefix}/no-such-route-{'x' * 6 * 1024}")
    assert_envelope(response.status_code, response.headers["content-type"], response.json(), 404)


def test_a_malformed_request_is_answered_400_in_the_envelope(stack: Stack) -> None:
    with socket.create_connection(("127.0.0.1", stack.http_port), timeout=10) as connection:
        connection.sendall(b"GARBAGE\r\n\r\n")
        answer = b""
        while chunk := connection.recv(4096):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    assert b"content-type: application/json" in head.lower()
    assert body.startswith(b'{"error": "Bad request"')

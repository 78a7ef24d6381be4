"""Errors nginx or an app server answers before the app runs are JSON in the contract's envelope."""

from __future__ import annotations

import json
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


def raw_exchange(stack: Stack, request: bytes) -> tuple[bytes, bytes, bytes]:
    """Status line, lower-cased head and body of the answer to `request`, sent as given."""
    with socket.create_connection(("127.0.0.1", stack.http_port), timeout=15) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return head.split(b"\r\n", 1)[0], head.lower(), body


def assert_raw_envelope(answer: tuple[bytes, bytes, bytes], status: int) -> dict[str, object]:
    status_line, head, body = answer
    assert status_line.split()[1] == str(status).encode(), status_line
    assert b"content-type: application/json" in head
    envelope = json.loads(body)
    assert isinstance(envelope["error"], str) and isinstance(envelope["message"], str)
    return dict(envelope)


@pytest.mark.parametrize("prefix", PREFIXES)
def test_a_control_character_in_a_header_value_is_refused_in_the_envelope(stack: Stack, prefix: str) -> None:
    # nginx passes it on; gunicorn's and uvicorn's parsers refuse it before the app runs.
    answer = raw_exchange(stack, b"GET " + prefix.encode() + b"/health HTTP/1.1\r\nHost: x\r\nX-Odd: a\x01b\r\n"
                                 b"Connection: close\r\n\r\n")
    assert assert_raw_envelope(answer, 400)["error"] == "Bad request"


@pytest.mark.parametrize("prefix", PREFIXES)
def test_more_header_lines_than_an_app_server_counts_answer_json(stack: Stack, prefix: str) -> None:
    # 120 header lines: nginx has no count limit, gunicorn refuses more than 100 (431).
    lines = b"".join(b"X-Line-%d: v\r\n" % number for number in range(120))
    status_line, head, body = raw_exchange(
        stack, b"GET " + prefix.encode() + b"/health HTTP/1.1\r\nHost: x\r\n" + lines + b"Connection: close\r\n\r\n")
    assert b"content-type: application/json" in head
    if status_line.split()[1] != b"200":
        assert assert_raw_envelope((status_line, head, body), 431)["error"] == "Request header fields too large"


@pytest.mark.parametrize("prefix", PREFIXES)
def test_an_http_version_nginx_does_not_speak_is_answered_505_in_the_envelope(stack: Stack, prefix: str) -> None:
    request = b"GET " + prefix.encode() + b"/health HTTP/2.0\r\nHost: x\r\nConnection: close\r\n\r\n"
    answer = raw_exchange(stack, request)
    assert_raw_envelope(answer, 505)


@pytest.mark.parametrize("path", ["/_errors/400", "/_shadow/api/health"])
def test_an_internal_location_asked_for_from_outside_is_a_404_envelope(stack: Stack, path: str) -> None:
    with stack.client() as client:
        response = client.get(path)
    assert_envelope(response.status_code, response.headers["content-type"], response.json(), 404)


@pytest.mark.parametrize("prefix", PREFIXES)
def test_a_body_over_nginx_limit_is_answered_413_in_the_envelope(stack: Stack, prefix: str) -> None:
    answer = raw_exchange(stack, b"POST " + prefix.encode() + b"/auth/login HTTP/1.1\r\nHost: x\r\n"
                                 b"Content-Type: application/json\r\nContent-Length: 99999999\r\n"
                                 b"Connection: close\r\n\r\n")
    assert assert_raw_envelope(answer, 413)["error"] == "Payload too large"


@pytest.mark.parametrize("prefix", PREFIXES)
def test_an_unknown_transfer_coding_is_answered_501_in_the_envelope(stack: Stack, prefix: str) -> None:
    answer = raw_exchange(stack, b"POST " + prefix.encode() + b"/auth/login HTTP/1.1\r\nHost: x\r\n"
                                 b"Transfer-Encoding: gzip\r\nConnection: close\r\n\r\n")
    assert_raw_envelope(answer, 501)

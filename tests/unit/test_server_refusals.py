"""The app servers' own refusals and the 405's Allow rule, as the core states them."""

from __future__ import annotations

import json

import pytest

from src.core.errors import methods_of_most_specific_routes
from src.core.server_refusals import refusal_response


@pytest.mark.parametrize(("status", "error"), [(400, "Bad request"), (431, "Request header fields too large"),
                                                (501, "Not implemented"), (500, "Internal server error")])
def test_a_refusal_is_a_closing_json_envelope(status: int, error: str) -> None:
    head, _, body = refusal_response(status).partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0].startswith(f"HTTP/1.1 {status} ".encode())
    assert b"Content-Type: application/json" in lines and b"Connection: close" in lines
    assert f"Content-Length: {len(body)}".encode() in lines
    envelope = json.loads(body)
    assert envelope["error"] == error and isinstance(envelope["message"], str)


def test_an_unknown_refusal_status_is_answered_as_400_or_500() -> None:
    assert refusal_response(418).startswith(b"HTTP/1.1 400 ")
    assert refusal_response(599).startswith(b"HTTP/1.1 500 ")


def test_allow_names_only_the_methods_of_the_templates_with_fewest_parameters() -> None:
    matches = [("GET", "/api/v2/jobs/{job_id}"), ("PUT", "/api/v2/jobs/{job_id}"),
               ("POST", "/api/v2/jobs/bulk-upload"), ("DELETE", "/api/jobs/<job_id>")]
    assert methods_of_most_specific_routes(matches) == ["POST"]
    assert methods_of_most_specific_routes(matches[:2]) == ["GET", "PUT"]
    assert methods_of_most_specific_routes([]) == []

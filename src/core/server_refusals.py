"""The envelope an app server (gunicorn, uvicorn) answers when it refuses a request itself.

They refuse before any app code runs (a header value nginx lets through but their parser does
not, more header lines than gunicorn counts): the client still gets the contract's JSON envelope,
with the same strings nginx uses for the same statuses (deploy/nginx/error-pages.conf.snippet).
"""

from __future__ import annotations

import json

REFUSALS: dict[int, tuple[str, str, str]] = {
    # status: (reason phrase, error, message)
    400: ("Bad Request", "Bad request", "The request could not be understood by the server."),
    403: ("Forbidden", "Forbidden", "The request is not allowed."),
    414: ("URI Too Long", "URI too long", "The request line exceeds 8192 bytes."),
    417: ("Expectation Failed", "Expectation failed", "The Expect header's expectation is not supported."),
    431: ("Request Header Fields Too Large", "Request header fields too large",
          "The request's header fields are too large or too many."),
    500: ("Internal Server Error", "Internal server error", "The server could not answer the request."),
    501: ("Not Implemented", "Not implemented", "The request's transfer coding is not supported."),
}


def refusal(status: int) -> tuple[int, str, bytes]:
    """Status, reason phrase and JSON body for a refusal with `status` (unknown ones answer 400)."""
    if status not in REFUSALS:
        status = 400 if status < 500 else 500
    reason, error, message = REFUSALS[status]
    return status, reason, json.dumps({"error": error, "message": message}).encode()


def refusal_response(status: int) -> bytes:
    """A whole HTTP/1.1 response (closing the connection) carrying the refusal's envelope."""
    status, reason, body = refusal(status)
    head = (f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n")
    return head.encode("latin-1") + body

"""Process logs as one JSON object per line: ts, level, logger, message, pid, request_id, extras.

Every line logged while a request is handled carries that request's id (a context variable set
by the door), so an error logged deep in the core can be matched with its request line and with
nginx's access log. Structured values are the record's `extra={...}` keys, top-level in the line:
whoever logs decides what is in it (never a header, a token or a password).
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import Any

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
# uvicorn's `extra`: the message again, with terminal colour codes.
_IGNORED_EXTRA = frozenset({"color_message"})

# Loggers that uvicorn and gunicorn give handlers of their own before the app is built.
SERVER_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "gunicorn.error", "gunicorn.access")
ACCESS_LOGGERS = ("uvicorn.access", "gunicorn.access")
# The HTTP client's own INFO line names the whole URL it called: a Slack webhook URL is a secret.
OUTBOUND_CLIENT_LOGGERS = ("httpx", "httpcore")


def bind_request_id(request_id: str) -> Token[str | None]:
    """Tag the lines logged from here on (this thread or task) with `request_id`."""
    return _request_id.set(request_id)


def unbind_request_id(token: Token[str | None]) -> None:
    _request_id.reset(token)


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (newlines in values are escaped by json)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            # Which gunicorn worker (or which process) wrote the line.
            "pid": record.process,
        }
        request_id = _request_id.get()
        if request_id is not None:
            entry["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRIBUTES and key not in _IGNORED_EXTRA:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_process_logging() -> None:
    """INFO lines as JSON on stdout for a server process, the server's own loggers included.

    Where the root logger has handlers already (pytest, an embedding program) they are left as
    they are; the uvicorn/gunicorn handlers created before the app get the JSON format.
    """
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
        root.setLevel(logging.INFO)
    for name in SERVER_LOGGERS:
        for server_handler in logging.getLogger(name).handlers:
            server_handler.setFormatter(JsonFormatter())
    # The door's own request line (request id, route, no query string) replaces the server's
    # access line, whose query string may carry a secret.
    for name in (*ACCESS_LOGGERS, *OUTBOUND_CLIENT_LOGGERS):
        logging.getLogger(name).setLevel(logging.WARNING)


def logging_config() -> dict[str, Any]:
    """A `logging.config.dictConfig` of the same format (gunicorn's master process reads it)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": f"{__name__}.JsonFormatter"}},
        "handlers": {"stdout": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"}},
        "root": {"level": "INFO", "handlers": ["stdout"]},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
            # As in configure_process_logging: the door's request line replaces the access line.
            "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": True},
            **{name: {"level": "WARNING"} for name in OUTBOUND_CLIENT_LOGGERS},
        },
    }

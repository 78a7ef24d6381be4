"""The JSON log format: one object per line, the bound request id, exceptions as a field."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from src.config import PROJECT_ROOT
from src.observability.json_logs import JsonFormatter, bind_request_id, unbind_request_id
from tests.receivers import Receiver, receiver  # noqa: F401  # pytest fixture: imported so tests can request it


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("tests.observability.json")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield logger, stream
    finally:
        logger.removeHandler(handler)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_record_is_one_line_with_ts_level_logger_and_message_even_with_newlines(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    logger.warning("first\nsecond %s", "arg")
    [line] = lines(stream)
    assert {k: line[k] for k in ("level", "logger", "message")} == {
        "level": "WARNING", "logger": "tests.observability.json", "message": "first\nsecond arg",
    }
    assert line["ts"].endswith("+00:00")
    assert "request_id" not in line


def test_lines_logged_while_a_request_id_is_bound_carry_it(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    token = bind_request_id("req-123")
    try:
        logger.info("inside")
    finally:
        unbind_request_id(token)
    logger.info("after")
    assert [line.get("request_id") for line in lines(stream)] == ["req-123", None]


def test_extra_values_are_top_level_keys_and_an_exception_is_a_field(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("failed", extra={"door": "flask", "status": 500})
    [line] = lines(stream)
    assert (line["door"], line["status"]) == ("flask", 500)
    assert line["exception"].startswith("Traceback") and "ValueError: boom" in line["exception"]


SECRET_PATH = "/services/T000/B000/webhook-secret-do-not-log"
CALL_AND_LOG = """
import logging, logging.config, sys
import httpx
from src.observability.json_logs import configure_process_logging, logging_config
if sys.argv[1] == "gunicorn":
    logging.config.dictConfig(logging_config())
else:
    configure_process_logging()
httpx.post(sys.argv[2], json={"text": "hi"}, timeout=5)
logging.getLogger("src.integrations").warning("outbound call done")
"""


@pytest.mark.parametrize("process", ["uvicorn", "gunicorn"])
def test_an_outbound_call_does_not_log_its_url(process: str, receiver: Receiver) -> None:  # noqa: F811  # receiver is the imported pytest fixture
    done = subprocess.run(
        [sys.executable, "-c", CALL_AND_LOG, process, receiver.url + SECRET_PATH],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60, check=True,
    )
    assert len(receiver.to(SECRET_PATH)) == 1
    assert "outbound call done" in done.stdout  # the process does log, as JSON on stdout
    assert "webhook-secret-do-not-log" not in done.stdout + done.stderr

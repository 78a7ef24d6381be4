"""Reading the JSON log a running process is still writing."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def finished_lines(path: Path) -> list[str]:
    """The lines of the file that end in a newline.

    The process may be in the middle of writing its next line: a reader sees that line cut short,
    so the unterminated tail is left for the next read.
    """
    text = path.read_text(errors="replace")
    return text.split("\n")[:-1]


def json_lines(path: Path) -> list[dict[str, Any]]:
    """Every finished line parsed as JSON (fails on one that is not)."""
    return [json.loads(line) for line in finished_lines(path) if line.strip()]


def wait_for_json_line(path: Path, wanted: Callable[[dict[str, Any]], bool],
                       timeout: float = 10.0) -> list[dict[str, Any]]:
    """The JSON lines `wanted` accepts, once there is at least one: an app logs a request after
    its response has left, so the line can lag the answer. Lines not starting with `{` (the app
    server's own start-up lines) are skipped. Returns [] at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        found = [entry for entry in (json.loads(line) for line in finished_lines(path) if line.startswith("{"))
                 if wanted(entry)]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)

"""The differences between two JSON answers: the paths that disagree and their two values, redacted."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from src.core.parity import ValueDifference, pattern_of

ABSENT = "<absent>"
REDACTED = "[redacted]"
# A difference report stops here: enough to see what broke, bounded for a huge list.
MAX_DIFFERENCES = 20
_SECRET_KEY = re.compile(r"token|password|secret|webhook|authorization|api_key|apikey|cookie", re.IGNORECASE)
_JWT = re.compile(r"^eyJ[\w-]+\.[\w-]+\.[\w-]+$")


def redact(value: Any, key: str = "") -> Any:
    """The value with secrets replaced: any value under a secret-looking key, and any JWT."""
    if key and _SECRET_KEY.search(key):
        return REDACTED
    if isinstance(value, dict):
        return {k: redact(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(item) for item in value]
    if isinstance(value, str) and _JWT.match(value):
        return REDACTED
    return value


def json_differences(legacy: Any, v2: Any, volatile: frozenset[str]) -> list[ValueDifference]:
    """Where two JSON values disagree, skipping declared volatile paths; values come redacted."""
    found: list[ValueDifference] = []
    for difference in _walk(legacy, v2, volatile, "$", ""):
        found.append(difference)
        if len(found) >= MAX_DIFFERENCES:
            break
    return found


def _walk(legacy: Any, v2: Any, volatile: frozenset[str], path: str, key: str) -> Iterator[ValueDifference]:
    if pattern_of(path) in volatile:
        return
    if isinstance(legacy, dict) and isinstance(v2, dict):
        for name in sorted(set(legacy) | set(v2), key=str):
            child = f"{path}.{name}"
            if name not in legacy or name not in v2:
                if pattern_of(child) not in volatile:
                    yield ValueDifference(child, redact(legacy.get(name, ABSENT), str(name)),
                                          redact(v2.get(name, ABSENT), str(name)))
                continue
            yield from _walk(legacy[name], v2[name], volatile, child, str(name))
    elif isinstance(legacy, list) and isinstance(v2, list):
        if len(legacy) != len(v2):
            yield ValueDifference(f"{path}.length", len(legacy), len(v2))
        for index, (left, right) in enumerate(zip(legacy, v2, strict=False)):
            yield from _walk(left, right, volatile, f"{path}[{index}]", key)
    elif type(legacy) is not type(v2) or legacy != v2:
        yield ValueDifference(path, redact(legacy, key), redact(v2, key))

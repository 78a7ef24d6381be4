"""Section 12 of the API contract (the endpoint table), parsed at test time."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

# The repository's own copy is the normative contract (docs/API_CONTRACT.md).
CONTRACT = Path(__file__).resolve().parents[2] / "docs" / "API_CONTRACT.md"
ROW = re.compile(r"^\|\s*(\d+)\s*\|\s*(GET|POST|PUT|DELETE)\s*\|\s*`([^`]+)`\s*\|([^|]*)\|")
# Section 12.1: endpoints of the FastAPI door only, numbered `v2-<n>`.
V2_ONLY_ROW = re.compile(r"^\|\s*v2-\d+\s*\|\s*(GET|POST|PUT|DELETE)\s*\|\s*`([^`]+)`\s*\|[^|]*\|\s*([^|]*?)\s*\|")


@cache
def table_rows() -> tuple[tuple[str, str, tuple[str, ...], bool], ...]:
    """(method, canonical path, prefixed alias paths, has un-prefixed alias) per row of section 12."""
    text = CONTRACT.read_text(encoding="utf-8")
    section = text[text.index("## 12. Endpoint summary table"):]
    rows = []
    for line in section.splitlines():
        match = ROW.match(line)
        if not match:
            continue
        _number, method, path, alias_cell = match.groups()
        unprefixed = "un-prefixed" in alias_cell
        aliases = () if unprefixed else tuple(re.findall(r"`([^`]+)`", alias_cell))
        rows.append((method, path, aliases, unprefixed))
    return tuple(rows)


def normalize(path: str) -> str:
    """Parameter names don't matter: `/jobs/{job_id}` and `/jobs/{id}` are one path."""
    return re.sub(r"\{[^}]+\}", "{}", path)


def contract_endpoints(*, include_aliases: bool) -> list[tuple[str, str]]:
    """(METHOD, normalized path relative to the prefix) for canonical paths (and aliases)."""
    endpoints = []
    for method, path, aliases, _unprefixed in table_rows():
        endpoints.append((method, normalize(path)))
        if include_aliases:
            endpoints.extend((method, normalize(alias)) for alias in aliases)
    return endpoints


@cache
def v2_only_rows() -> tuple[tuple[str, str, str], ...]:
    """(method, path relative to /api/v2, role) per row of section 12.1."""
    text = CONTRACT.read_text(encoding="utf-8")
    section = text[text.index("### 12.1 Endpoints of the `/api/v2` door only"):]
    return tuple(match.groups() for line in section.splitlines() if (match := V2_ONLY_ROW.match(line)))  # type: ignore[misc]  # the regex has exactly these groups

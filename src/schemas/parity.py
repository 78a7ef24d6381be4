"""The shadow-read parity report (`GET /api/v2/admin/parity`, `python -m src.cli parity report --json`)."""

from __future__ import annotations

from typing import Any

from src.schemas.common import ApiModel


class ParitySampleValue(ApiModel):
    path: str
    legacy: Any
    v2: Any


class ParitySample(ApiModel):
    seen_at: str
    request_id: str | None
    values: list[ParitySampleValue]


class ParityDifferenceOut(ApiModel):
    id: int
    paths: list[str]
    count: int
    first_seen: str
    last_seen: str
    explanation: str | None
    samples: list[ParitySample]


class ParityRouteOut(ApiModel):
    route: str
    compared: int
    matched: int
    mismatched: int
    raced: int
    first_seen: str
    last_seen: str
    differences: list[ParityDifferenceOut]


class ParityReportResponse(ApiModel):
    since: str
    routes: list[ParityRouteOut]

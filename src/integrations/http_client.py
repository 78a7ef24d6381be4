"""The process-wide outbound HTTP client (placeholder until the guard transport lands)."""

from __future__ import annotations

import httpx

from src.config import Settings


def create_http_client(settings: Settings) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=settings.OUTBOUND_TIMEOUT_SECONDS, follow_redirects=False, verify=True
    )

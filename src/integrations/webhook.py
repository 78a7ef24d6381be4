"""Webhook calls: real runs (contract 8.1) and test runs (4.10)."""

from __future__ import annotations

from typing import Any

import httpx

from src.integrations.http_client import CappedResponse, describe_error, send_capped
from src.integrations.results import DispatchResult
from src.integrations.url_guard import url_problem


async def call(http: httpx.AsyncClient, url: str, metadata: dict[str, Any]) -> DispatchResult:
    """POST the metadata as JSON when non-empty, else GET; success iff 2xx; never raises."""
    try:
        response = await request(http, url, metadata if metadata else None, method="POST" if metadata else "GET")
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        return DispatchResult(False, error_message=f"Webhook call failed: {describe_error(exc)}")
    if 200 <= response.status_code < 300:
        return DispatchResult(True, response_status=response.status_code, output=response.text)
    return DispatchResult(
        False,
        response_status=response.status_code,
        error_message=f"Webhook returned status {response.status_code}",
        output=response.text,
    )


async def request(
    http: httpx.AsyncClient,
    url: str,
    body: dict[str, Any] | None,
    *,
    method: str = "POST",
    timeout: float | None = None,
) -> CappedResponse:
    """One webhook request with a bounded body read; raises httpx errors (refused URLs included)."""
    problem = url_problem(url)
    if problem:
        raise httpx.UnsupportedProtocol(f"{problem}: {url}")
    return await send_capped(http, method, url, json=body, timeout=timeout)

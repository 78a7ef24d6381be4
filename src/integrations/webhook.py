"""Webhook calls: real runs (contract 8.1) and test runs (4.10)."""

from __future__ import annotations

import time
from typing import Any

import httpx

from src.core.request_settings import RequestSettings
from src.core.retry_policy import is_retryable_status, retry_after_seconds
from src.integrations.http_client import CappedResponse, describe_error, is_transient
from src.integrations.results import DispatchResult
from src.integrations.run_calls import RunCallClient, encode_json
from src.integrations.signing import signature_headers
from src.integrations.url_guard import url_problem

NO_SETTINGS = RequestSettings()


def _request_parts(metadata: dict[str, Any], settings: RequestSettings) -> tuple[str, dict[str, str], bytes | None]:
    """Method, headers and body of a run's call: the job's settings, else today's metadata rule."""
    method = settings.method or ("POST" if metadata else "GET")
    headers = dict(settings.headers)
    body: bytes | None = None
    if settings.body is not None:
        body = settings.body.encode()
    elif metadata and method != "GET":
        body = encode_json(metadata)
        if not any(name.lower() == "content-type" for name in headers):
            headers["Content-Type"] = "application/json"
    return method, headers, body


async def call(
    calls: RunCallClient,
    url: str,
    metadata: dict[str, Any],
    settings: RequestSettings = NO_SETTINGS,
    *,
    message_id: str | None = None,
) -> DispatchResult:
    """One attempt: success iff 2xx; never raises. Signed when the job has a secret."""
    method, headers, body = _request_parts(metadata, settings)
    if settings.signing_secret and message_id:
        headers.update(signature_headers(settings.signing_secret, message_id, int(time.time()), body or b""))
    try:
        _refuse_bad_url(url)
        response = await calls.send_capped(method, url, headers=headers, content=body,
                                           timeout=settings.timeout_seconds)
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        return DispatchResult(False, error_message=f"Webhook call failed: {describe_error(exc)}",
                              retryable=is_transient(exc))
    if 200 <= response.status_code < 300:
        return DispatchResult(True, response_status=response.status_code, output=response.text,
                              excerpt=response.excerpt)
    return DispatchResult(
        False,
        response_status=response.status_code,
        error_message=f"Webhook returned status {response.status_code}",
        output=response.text,
        excerpt=response.excerpt,
        retryable=is_retryable_status(response.status_code),
        retry_after=retry_after_seconds(response.retry_after),
    )


def _refuse_bad_url(url: str) -> None:
    problem = url_problem(url)
    if problem:
        raise httpx.UnsupportedProtocol(f"{problem}: {url}")


async def request(
    calls: RunCallClient,
    url: str,
    body: dict[str, Any] | None,
    *,
    method: str = "POST",
    timeout: float | None = None,
) -> CappedResponse:
    """One webhook request (a test run's) with a bounded body read; raises httpx errors (refused URLs included).

    Through the runs' aiohttp client, whose rules are the httpx client's (guard, no redirects, the
    read cap): a loopback call costs a fraction of httpx's CPU (docs/PERFORMANCE.md, "Test-runs
    through aiohttp").
    """
    _refuse_bad_url(url)
    if body is None:
        return await calls.send_capped(method, url, headers={}, content=None, timeout=timeout)
    return await calls.send_json(method, url, body, timeout=timeout)

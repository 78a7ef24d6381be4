"""Slack incoming-webhook posts (contract 8.7): a failure is a DeliveryFailed for the caller to log."""

from __future__ import annotations

import httpx

from src.config import Settings
from src.integrations.http_client import describe_error
from src.integrations.results import DeliveryFailed, without_secrets
from src.integrations.run_calls import RunCallClient
from src.integrations.url_guard import url_problem

SLACK_TIMEOUT_SECONDS = 10.0


def callable_url(settings: Settings, url: str | None) -> bool:
    """Only https URLs with a host; plain http too when private (loopback) targets are allowed."""
    if not url:
        return False
    return url_problem(url, require_https=not settings.allow_private_targets) is None


def _secret_parts(webhook_url: str) -> tuple[str, str | None]:
    """An incoming-webhook URL is a credential, its path the secret part: neither may reach a log."""
    try:
        path = httpx.URL(webhook_url).path
    except httpx.InvalidURL:
        path = ""
    return webhook_url, path if len(path) > 1 else None


async def post(
    calls: RunCallClient, settings: Settings, webhook_url: str, text: str, channel: str | None = None
) -> None:
    """Post one message; raises DeliveryFailed unless Slack answered 2xx (never anything else)."""
    if not callable_url(settings, webhook_url):
        raise DeliveryFailed("webhook URL not called: it must be an https URL with a host")
    payload: dict[str, str] = {"text": text}
    if channel:
        payload["channel"] = channel
    try:
        response = await calls.send_json("POST", webhook_url, payload, timeout=SLACK_TIMEOUT_SECONDS)
    except Exception as exc:  # noqa: BLE001 - a Slack outage must never break a run
        raise DeliveryFailed(without_secrets(describe_error(exc), *_secret_parts(webhook_url))) from exc
    if not 200 <= response.status_code < 300:
        raise DeliveryFailed(f"Slack answered {response.status_code}")

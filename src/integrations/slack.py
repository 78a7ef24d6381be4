"""Slack incoming-webhook posts (contract 8.7): never raise, log failures."""

from __future__ import annotations

import logging

import httpx

from src.config import Settings
from src.integrations.http_client import send_capped
from src.integrations.url_guard import url_problem

log = logging.getLogger(__name__)

SLACK_TIMEOUT_SECONDS = 10.0


def callable_url(settings: Settings, url: str | None) -> bool:
    """Only https URLs with a host; plain http too when private (loopback) targets are allowed."""
    if not url:
        return False
    return url_problem(url, require_https=not settings.allow_private_targets) is None


async def post(
    http: httpx.AsyncClient, settings: Settings, webhook_url: str, text: str, channel: str | None = None
) -> bool:
    """Post one message; True when Slack answered 2xx."""
    if not callable_url(settings, webhook_url):
        log.warning("Slack webhook URL not called: it must be an https URL with a host")
        return False
    payload: dict[str, str] = {"text": text}
    if channel:
        payload["channel"] = channel
    try:
        response = await send_capped(http, "POST", webhook_url, json=payload, timeout=SLACK_TIMEOUT_SECONDS)
    except Exception as exc:  # noqa: BLE001 - a Slack outage must never break a run
        log.warning("Slack post failed: %s", exc)
        return False
    if 200 <= response.status_code < 300:
        return True
    log.warning("Slack answered %s", response.status_code)
    return False

"""Deliver the messages a committed transaction queued (src.core.outbox)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from src.core.outbox import EmailMessage, SlackMessage
from src.integrations import slack

if TYPE_CHECKING:
    from src.scheduler.services import RunServices

log = logging.getLogger(__name__)


async def deliver(services: "RunServices", messages: list[SlackMessage | EmailMessage]) -> int:
    """Send each message in order; returns how many were delivered. Never raises."""
    delivered = 0
    for message in messages:
        try:
            if isinstance(message, SlackMessage):
                ok = await slack.post(
                    services.http, services.settings, message.webhook_url, message.text, message.channel
                )
            else:
                ok = await services.mailer.send(message.recipients, message.subject, message.html, message.text)
        except Exception:  # noqa: BLE001 - one bad message must not stop the others
            log.exception("delivering %s failed", type(message).__name__)
            ok = False
        delivered += int(ok)
    return delivered

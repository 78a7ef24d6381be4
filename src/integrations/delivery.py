"""Deliver the messages a committed transaction queued (src.core.outbox).

A message that is due but cannot be delivered (Slack or the SMTP server down, refusing, answering
an error) is logged once at WARNING with its channel, its job and the reason (never a webhook URL
or a password); the other messages are still sent, and nothing is raised.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from src.core.outbox import EmailMessage, SlackMessage
from src.integrations import slack
from src.integrations.results import DeliveryFailed

if TYPE_CHECKING:
    from src.scheduler.services import ExecutionServices

log = logging.getLogger(__name__)


async def deliver(services: ExecutionServices, messages: list[SlackMessage | EmailMessage]) -> int:
    """Send each message in order; returns how many were delivered. Never raises."""
    delivered = 0
    for message in messages:
        try:
            sent = await _send(services, message)
        except Exception as exc:  # noqa: BLE001 - one bad message must not stop the others
            _log_not_delivered(message, exc)
            services.metrics.notification_failed(channel_of(message))
        else:
            delivered += int(sent)
    return delivered


def channel_of(message: SlackMessage | EmailMessage) -> str:
    return "slack" if isinstance(message, SlackMessage) else "email"


async def _send(services: ExecutionServices, message: SlackMessage | EmailMessage) -> bool:
    """True once delivered, False when nothing was due (email switched off); raises when it failed."""
    if isinstance(message, SlackMessage):
        await slack.post(services.calls, services.settings, message.webhook_url, message.text, message.channel)
        return True
    return await services.mailer.send(message.recipients, message.subject, message.html, message.text)


def _log_not_delivered(message: SlackMessage | EmailMessage, exc: Exception) -> None:
    channel = channel_of(message)
    if isinstance(exc, DeliveryFailed):
        log.warning("%s notification for job %r not delivered: %s", channel, message.job_name, exc.reason,
                    extra={"channel": channel, "job_name": message.job_name})
        return
    # A bug rather than an outage: the traceback is needed to fix it.
    log.error("%s notification for job %r not delivered: unexpected %s", channel, message.job_name,
              type(exc).__name__, exc_info=exc, extra={"channel": channel, "job_name": message.job_name})

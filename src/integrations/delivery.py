"""Deliver the messages a committed transaction queued (placeholder until Slack/email land)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from src.core.outbox import EmailMessage, SlackMessage

if TYPE_CHECKING:
    from src.scheduler.services import RunServices


async def deliver(services: "RunServices", messages: list[SlackMessage | EmailMessage]) -> None:
    return None

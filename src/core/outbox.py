"""Messages to send once the transaction that produced them has committed.

Core operations never do network I/O (they may run inside `AsyncSession.run_sync`). When a
rule says "post to Slack" or "send an email", the operation queues the message on its
session; whoever owns the transaction commits, then hands the queue to
`src.integrations.delivery.deliver`. A rolled-back transaction sends nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

_KEY = "outbox"


@dataclass(frozen=True)
class SlackMessage:
    webhook_url: str
    text: str
    channel: str | None = None
    # The job the message is about, named in the log when it cannot be delivered.
    job_name: str | None = None


@dataclass(frozen=True)
class EmailMessage:
    recipients: tuple[str, ...]
    subject: str
    html: str
    text: str
    job_name: str | None = None


@dataclass
class Outbox:
    messages: list[SlackMessage | EmailMessage] = field(default_factory=list)


def queue(session: Session, message: SlackMessage | EmailMessage) -> None:
    session.info.setdefault(_KEY, Outbox()).messages.append(message)


def take(session: Session) -> list[SlackMessage | EmailMessage]:
    """Remove and return everything queued on this session."""
    outbox = session.info.pop(_KEY, None)
    return list(outbox.messages) if outbox else []


def discard(session: Session) -> None:
    session.info.pop(_KEY, None)

"""The single global Slack settings row (contract 6.10) and the target Slack posts go to (8.7)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from src.core.errors import Invalid
from src.models import SlackSettings
from src.schemas.slack_settings import SlackSettingsUpdateRequest


def _current(session: Session) -> SlackSettings | None:
    # Oldest first: should two processes race to create the row, both keep reading the same one.
    return session.scalar(select(SlackSettings).order_by(SlackSettings.created_at, SlackSettings.id).limit(1))


def get_settings(session: Session) -> SlackSettings:
    """The settings row, created disabled and empty on first access."""
    row = _current(session)
    if row is None:
        row = SlackSettings(is_enabled=False, webhook_url=None, channel=None)
        session.add(row)
        session.flush()
    return row


def update_settings(session: Session, body: SlackSettingsUpdateRequest) -> SlackSettings:
    """Apply `is_enabled`, `webhook_url`, `channel` (trimmed; blank or null → null).

    Validated in full before the row changes: enabling without a URL persists nothing.
    """
    row = get_settings(session)
    given = body.model_fields_set
    is_enabled = body.is_enabled if "is_enabled" in given else row.is_enabled
    webhook_url = body.webhook_url if "webhook_url" in given else row.webhook_url
    channel = body.channel if "channel" in given else row.channel
    if is_enabled and not webhook_url:
        raise Invalid("Invalid settings", "webhook_url is required when Slack is enabled.")
    row.is_enabled, row.webhook_url, row.channel = is_enabled, webhook_url, channel
    session.flush()
    return row


def slack_target(session: Session) -> tuple[str, str | None] | None:
    """(webhook_url, channel) when Slack is enabled with a URL, else None; never creates the row."""
    row = _current(session)
    if row is None or not row.is_enabled or not row.webhook_url:
        return None
    return row.webhook_url, row.channel

"""A warning about one job, in-app to its owner and the admins and on Slack with its PIC team's handle."""

from __future__ import annotations

from sqlalchemy.orm import Session

from src.core import slack_alerts
from src.core.broadcasts import notify_owner_and_admins
from src.models import Job


def warn_owner_and_team(session: Session, job: Job, title: str, message: str, slack_text: str) -> None:
    """The notification (8.5) and the Slack message (8.7, sent after commit when Slack is on)."""
    notify_owner_and_admins(session, job, title, message, "warning")
    slack_alerts.queue_alert(session, slack_text, job_name=job.name)

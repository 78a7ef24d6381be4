"""End date rules (contract 8.4): the one auto-pause routine every path uses."""

from __future__ import annotations

from sqlalchemy.orm import Session

from src.config import Settings
from src.core import slack_alerts
from src.core.job_alerts import warn_owner_and_team
from src.models import Job

AUTO_PAUSE_TITLE = "Job auto-paused (end date passed)"


def auto_pause_message(job: Job) -> str:
    end = job.end_date.isoformat() if job.end_date else "-"
    return (
        f'Job "{job.name}" passed its end_date ({end} JST) and was auto-paused. '
        f"PIC Team: {job.pic_team or '-'}"
    )


def auto_pause(session: Session, settings: Settings, job: Job) -> bool:
    """Deactivate an active expired job, notify owner + admins, queue the Slack alert.

    An already-inactive job is left alone (not re-notified); returns whether it paused the job.
    The schedule is removed by the scheduler when it sees the job inactive (its sync polls
    `updated_at`, which this change bumps).
    """
    if not job.is_active:
        return False
    job.is_active = False
    session.flush()
    warn_owner_and_team(session, job, AUTO_PAUSE_TITLE, auto_pause_message(job),
                        slack_alerts.auto_paused_text(session, settings, job))
    return True

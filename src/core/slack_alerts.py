"""Slack texts of contract 8.7 and queueing them on the session's outbox (sent after commit)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from src.config import Settings
from src.core import outbox
from src.core.slack_settings import slack_target
from src.models import Job, PicTeam

ERROR_TEXT_LIMIT = 300


def mention(session: Session, job: Job) -> str:
    """The PIC team's Slack handle plus one space, or "" when the team is missing or has none."""
    if not job.pic_team:
        return ""
    handle = session.scalar(select(PicTeam.slack_handle).where(PicTeam.slug == job.pic_team))
    handle = (handle or "").strip()
    return f"{handle} " if handle else ""


def job_link(settings: Settings, job: Job) -> str:
    """`<link>|<job name>` in Slack's link syntax, pointing at the SPA's edit page."""
    return f"<{settings.frontend_base_url}/jobs/{job.id}/edit|{job.name}>"


def _end_date(job: Job) -> str:
    return job.end_date.isoformat() if job.end_date else "-"


def failed_text(session: Session, settings: Settings, job: Job, trigger_type: str, error: str | None) -> str:
    detail = (error or "")[:ERROR_TEXT_LIMIT]
    return f":x: {mention(session, job)}Job failed: {job_link(settings, job)} ({trigger_type}): {detail}"


def recovered_text(session: Session, settings: Settings, job: Job) -> str:
    return f":white_check_mark: {mention(session, job)}Job recovered: {job_link(settings, job)}"


def auto_paused_text(session: Session, settings: Settings, job: Job) -> str:
    return (
        f":warning: {mention(session, job)}Job auto-paused (end date passed): "
        f"{job_link(settings, job)} (end_date {_end_date(job)} JST)"
    )


def ending_soon_text(session: Session, settings: Settings, job: Job, days_left: int) -> str:
    return (
        f":warning: {mention(session, job)}Job ending soon ({days_left}d): "
        f"{job_link(settings, job)} (end_date {_end_date(job)} JST)"
    )


def queue_alert(session: Session, text: str, *, job_name: str) -> bool:
    """Queue `text` about job `job_name` for the configured Slack webhook; False when Slack is off."""
    target = slack_target(session)
    if target is None:
        return False
    webhook_url, channel = target
    outbox.queue(session, outbox.SlackMessage(webhook_url=webhook_url, text=text, channel=channel, job_name=job_name))
    return True

"""Weekly end-date maintenance (contract 8.8): run by the leader every Monday 09:00 scheduler time.

1. every active job with `end_date < today` is auto-paused (8.4, the shared routine);
2. every job (active or not) with `today <= end_date <= today + 30` gets an "ending soon"
   notification to owner + admins and, when Slack is enabled, the ending-soon Slack message.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from src.config import Settings
from src.core import slack_alerts
from src.core.broadcasts import notify_owner_and_admins
from src.core.clock import local_today
from src.core.end_dates import auto_pause
from src.models import Job
from src.scheduler.services import ExecutionServices

log = logging.getLogger(__name__)

MAINTENANCE_JOB_ID = "end_date_maintenance"
ENDING_SOON_TITLE = "Job ending soon"
ENDING_SOON_WINDOW_DAYS = 30


@dataclass(frozen=True)
class MaintenanceResult:
    auto_paused: int
    ending_soon: int


def ending_soon_message(job: Job, days_left: int) -> str:
    end = job.end_date.isoformat() if job.end_date else "-"
    return (
        f'Job "{job.name}" ends on {end} JST ({days_left} day(s) left). '
        f"PIC Team: {job.pic_team or '-'}"
    )


def end_date_maintenance(session: Session, settings: Settings, today: date | None = None) -> MaintenanceResult:
    """Apply 8.8 for `today` (default: today in the scheduler timezone); queues Slack, never commits."""
    today = today or local_today(settings.scheduler_tz)
    expired = session.scalars(
        select(Job).where(Job.is_active.is_(True), Job.end_date.is_not(None), Job.end_date < today)
        .order_by(Job.name)
    ).all()
    paused = sum(1 for job in expired if auto_pause(session, settings, job))

    ending = session.scalars(
        select(Job).where(Job.end_date >= today, Job.end_date <= today + timedelta(days=ENDING_SOON_WINDOW_DAYS))
        .order_by(Job.end_date, Job.name)
    ).all()
    for job in ending:
        assert job.end_date is not None
        days_left = (job.end_date - today).days
        notify_owner_and_admins(session, job, ENDING_SOON_TITLE, ending_soon_message(job, days_left), "warning")
        slack_alerts.queue_alert(
            session, slack_alerts.ending_soon_text(session, settings, job, days_left), job_name=job.name
        )
    session.flush()
    return MaintenanceResult(auto_paused=paused, ending_soon=len(ending))


async def run_end_date_maintenance(services: ExecutionServices) -> MaintenanceResult | None:
    """One maintenance pass in its own transaction, then deliver the queued Slack messages."""
    try:
        async with services.unit_of_work() as session:
            result = await session.run_sync(end_date_maintenance, services.settings)
    except Exception:  # noqa: BLE001 - the next week's pass retries; never crash the scheduler
        log.exception("end-date maintenance failed")
        return None
    log.info("end-date maintenance: %d auto-paused, %d ending soon", result.auto_paused, result.ending_soon)
    return result

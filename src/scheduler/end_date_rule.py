"""The end-date rule of the schedule (contract 8.4): expired jobs are auto-paused, never scheduled."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from src.config import Settings
from src.core import scheduler_sync
from src.core.end_dates import auto_pause
from src.core.scheduler_sync import JobScheduleRow
from src.models import Job


def should_be_scheduled(row: JobScheduleRow, today: date) -> bool:
    """Active, and its end date (if any) not passed."""
    return row.is_active and (row.end_date is None or row.end_date >= today)


def auto_pause_expired(session: Session, settings: Settings, rows: list[JobScheduleRow],
                       today: date) -> tuple[list[JobScheduleRow], int]:
    """Auto-pause the active rows whose end date passed; returns the rows as they are now and how many paused."""
    expired_ids = [r.id for r in rows if r.is_active and r.end_date is not None and r.end_date < today]
    if not expired_ids:
        return rows, 0
    paused = 0
    for job in session.scalars(select(Job).where(Job.id.in_(expired_ids))):
        paused += int(auto_pause(session, settings, job))
    session.flush()
    expired = set(expired_ids)
    return [r for r in rows if r.id not in expired] + scheduler_sync.job_rows_by_id(session, expired_ids), paused

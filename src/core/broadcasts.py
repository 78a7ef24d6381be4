"""Creating in-app notifications (contract 8.5): to all users, or to a job's owner and admins."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from src.models import Job, Notification, User, new_id, utcnow

NotificationType = Literal["success", "error", "warning", "info"]


def _rows(
    user_ids: list[str],
    title: str,
    message: str,
    type_: NotificationType,
    related_job_id: str | None,
    related_execution_id: str | None,
) -> list[dict[str, object]]:
    now = utcnow()
    return [
        {
            "id": new_id(),
            "user_id": user_id,
            "title": title,
            "message": message,
            "type": type_,
            "related_job_id": related_job_id,
            "related_execution_id": related_execution_id,
            "is_read": False,
            "read_at": None,
            "created_at": now,
        }
        for user_id in user_ids
    ]


def _insert_for(
    session: Session,
    user_ids: list[str],
    title: str,
    message: str,
    type_: NotificationType,
    related_job_id: str | None,
    related_execution_id: str | None,
) -> int:
    if not user_ids:
        return 0
    session.execute(insert(Notification), _rows(user_ids, title, message, type_, related_job_id, related_execution_id))
    return len(user_ids)


class AllUsersNotices:
    """Notifications to all users for several events: the users read once, all rows written by `write()`."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.user_ids = list(session.scalars(select(User.id)))
        self.rows: list[dict[str, object]] = []

    def add(self, title: str, message: str, type_: NotificationType, *,
            related_job_id: str | None = None, related_execution_id: str | None = None) -> int:
        self.rows += _rows(self.user_ids, title, message, type_, related_job_id, related_execution_id)
        return len(self.user_ids)

    def write(self) -> None:
        if self.rows:
            self.session.execute(insert(Notification), self.rows)
            self.rows = []


def notify_all_users(
    session: Session,
    title: str,
    message: str,
    type_: NotificationType,
    *,
    related_job_id: str | None = None,
    related_execution_id: str | None = None,
) -> int:
    """One notification per row of `users` (all roles, active or not); returns how many."""
    notices = AllUsersNotices(session)
    count = notices.add(title, message, type_, related_job_id=related_job_id,
                        related_execution_id=related_execution_id)
    notices.write()
    return count


def owner_and_admin_ids(session: Session, job: Job) -> list[str]:
    """The job's creator (if any) plus every active admin, de-duplicated, owner first."""
    ids: list[str] = [job.created_by] if job.created_by else []
    for admin_id in session.scalars(select(User.id).where(User.role == "admin", User.is_active.is_(True))):
        if admin_id not in ids:
            ids.append(admin_id)
    return ids


def notify_owner_and_admins(
    session: Session, job: Job, title: str, message: str, type_: NotificationType
) -> int:
    return _insert_for(session, owner_and_admin_ids(session, job), title, message, type_, job.id, None)

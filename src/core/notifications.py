"""The caller's in-app notifications (contract 6.9): every query is scoped to one user."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from src.core.clock import utcnow
from src.core.errors import Forbidden, NotFound
from src.core.row_locks import get_locked
from src.models import Notification, User
from src.schemas.notification_queries import NotificationListQuery
from src.schemas.query_rules import DateRange, DateRangeQuery


@dataclass(frozen=True)
class NotificationPage:
    notifications: list[Notification]
    total: int
    page: int
    per_page: int
    total_pages: int
    range: DateRange


@dataclass(frozen=True)
class UnreadCount:
    unread_count: int
    range: DateRange


# The read statements are built once per shape (which filters are present), with bound values:
# building a statement and its cache key cost more than SQLite running it.
def _in_range(start: bool, end: bool) -> list[ColumnElement[bool]]:
    """`created_at` within the bound `start`/`end` (each only when present)."""
    conditions: list[ColumnElement[bool]] = []
    if start:
        conditions.append(Notification.created_at >= bindparam("start"))
    if end:
        conditions.append(Notification.created_at < bindparam("end"))
    return conditions


def _scope(start: bool, end: bool, unread_only: bool) -> list[ColumnElement[bool]]:
    conditions = [Notification.user_id == bindparam("user_id"), *_in_range(start, end)]
    if unread_only:
        conditions.append(Notification.is_read.is_(False))
    return conditions


@cache
def _list_statements(start: bool, end: bool, unread_only: bool) -> tuple[Select[Any], Select[Any]]:
    conditions = _scope(start, end, unread_only)
    count = select(func.count()).select_from(Notification).where(*conditions)
    page = (
        select(Notification)
        .where(*conditions)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .offset(bindparam("offset"))
        .limit(bindparam("limit"))
    )
    return count, page


@cache
def _unread_count_statement(start: bool, end: bool) -> Select[Any]:
    return select(func.count()).select_from(Notification).where(*_scope(start, end, unread_only=True))


def _range_params(user: User, date_range: DateRange) -> dict[str, Any]:
    return {"user_id": user.id, "start": date_range.start, "end": date_range.end}


def list_notifications(session: Session, user: User, query: NotificationListQuery) -> NotificationPage:
    """One page of the caller's notifications, newest first (two statements: count and page)."""
    date_range = query.range()
    effective_page, size = query.page, query.per_page
    count, page_of = _list_statements(date_range.start is not None, date_range.end is not None, query.unread_only)
    params = {**_range_params(user, date_range), "offset": (effective_page - 1) * size, "limit": size}
    total = session.scalar(count, params) or 0
    rows = list(session.scalars(page_of, params))
    return NotificationPage(rows, total, effective_page, size, math.ceil(total / size), date_range)


def unread_count(session: Session, user: User, query: DateRangeQuery) -> UnreadCount:
    date_range = query.range()
    statement = _unread_count_statement(date_range.start is not None, date_range.end is not None)
    return UnreadCount(session.scalar(statement, _range_params(user, date_range)) or 0, date_range)


def _own_notification(session: Session, user: User, notification_id: str, forbidden: str) -> Notification:
    # Locked first: concurrent marks see the first one's read_at, concurrent deletes one 200.
    notification = get_locked(session, Notification, notification_id)
    if notification is None:
        raise NotFound("Notification not found")
    if notification.user_id != user.id:
        raise Forbidden(forbidden)
    return notification


def mark_read(session: Session, user: User, notification_id: str) -> Notification:
    """Mark one of the caller's notifications read; an already-read one keeps its read_at."""
    notification = _own_notification(
        session, user, notification_id, "Forbidden: Cannot access other users notifications"
    )
    if not notification.is_read:
        notification.is_read = True
        notification.read_at = utcnow()
        session.flush()
    return notification


def mark_all_read(session: Session, user: User) -> int:
    """Mark every unread notification of the caller read; returns how many changed."""
    result = session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.is_read.is_(False))
        .values(is_read=True, read_at=utcnow()),
        execution_options={"synchronize_session": False},
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]  # rowcount is on CursorResult, typed Result


def delete_notification(session: Session, user: User, notification_id: str) -> None:
    notification = _own_notification(
        session, user, notification_id, "Forbidden: Cannot delete other users notifications"
    )
    session.delete(notification)
    session.flush()


def delete_read(session: Session, user: User, query: DateRangeQuery) -> int:
    """Delete the caller's read notifications created in range (all of them without a range)."""
    date_range = query.range()
    result = session.execute(
        delete(Notification).where(
            Notification.user_id == user.id, Notification.is_read.is_(True),
            *_in_range(date_range.start is not None, date_range.end is not None),
        ),
        _range_params(user, date_range),
        execution_options={"synchronize_session": False},
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]  # rowcount is on CursorResult, typed Result

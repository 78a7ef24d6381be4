"""Take a row's write lock before reading it, so writers of one row run one after another.

A no-op UPDATE locks the row on PostgreSQL and takes SQLite's database write lock (SQLite has no
FOR UPDATE); a read after it sees the latest committed version. Concurrent deletes or marks of one
row then find it gone or already changed instead of each acting on the copy it read before.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import update
from sqlalchemy.orm import Session

Row = TypeVar("Row")


def lock_row(session: Session, model: type[Any], row_id: str) -> bool:
    """Lock the row with this id for the rest of the transaction; False when there is none."""
    # Assign columns to themselves, `updated_at` included, so no onupdate default fires.
    unchanged = {model.id: model.id}
    if hasattr(model, "updated_at"):
        unchanged[model.updated_at] = model.updated_at
    result = session.execute(
        update(model).where(model.id == row_id).values(unchanged)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]  # rowcount is on CursorResult, typed Result


def get_locked(session: Session, model: type[Row], row_id: str) -> Row | None:
    """The row with this id read after taking its write lock, or None when it no longer exists."""
    if not lock_row(session, model, row_id):
        return None
    return session.get(model, row_id, populate_existing=True)

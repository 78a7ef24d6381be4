"""Rules shared by the two slug-keyed lookup tables, job categories and PIC teams (contract 6.1-6.8).

Jobs reference both by slug (no foreign key), so a rename rewrites the jobs' column in the same
transaction, and a soft delete never touches jobs (7.6).
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session

from src.core.errors import Conflict, Invalid, NotFound, read_field
from src.core.slugs import slugify
from src.models import Job, JobCategory, PicTeam, User

SlugRow = TypeVar("SlugRow", JobCategory, PicTeam)


def invalid_slug() -> Invalid:
    return Invalid("Invalid slug", "Unable to generate a valid slug from name.")


def list_rows(session: Session, model: type[SlugRow], user: User, include_inactive: bool) -> list[SlugRow]:
    """Active rows ordered by lower-cased name; admins may ask for inactive ones too."""
    statement = select(model).order_by(func.lower(model.name), model.slug)
    if not (include_inactive and user.role == "admin"):
        statement = statement.where(model.is_active.is_(True))
    return list(session.scalars(statement))


def get_row(session: Session, model: type[SlugRow], row_id: str, not_found_message: str) -> SlugRow:
    row = session.get(model, row_id)
    if row is None:
        raise NotFound("Not found", f"{not_found_message}{row_id}")
    return row


def creation_slug(model: type[BaseModel], payload: dict[str, Any]) -> tuple[str, str]:
    """(name, slug) of a create body: name required, slug from `slug` when non-blank else `name`."""
    name = read_field(model, payload, "name")
    requested = read_field(model, payload, "slug")
    slug = slugify(requested or name)
    if not slug:
        raise invalid_slug()
    return name, slug


def ensure_slug_free(session: Session, model: type[SlugRow], slug: str, duplicate: Conflict) -> None:
    if session.scalar(select(model.id).where(model.slug == slug)) is not None:
        raise duplicate


def flush_unique(session: Session, duplicate: Conflict) -> None:
    """Flush; a concurrent insert of the same slug becomes the 409 instead of a 500."""
    try:
        session.flush()
    except IntegrityError:
        raise duplicate from None


def requested_name(model: type[BaseModel], payload: dict[str, Any]) -> str | None:
    """The new name of an update body (None when `name` is absent); blank → 400 "Invalid name"."""
    if "name" not in payload:
        return None
    name: str = read_field(model, payload, "name")
    return name


def free_slug_for(session: Session, model: type[SlugRow], row: SlugRow, name: str, duplicate: Conflict) -> str:
    """The slug a rename to `name` gives `row`; empty → 400, taken by another row → 409."""
    slug = slugify(name)
    if not slug:
        raise invalid_slug()
    if slug != row.slug:
        ensure_slug_free(session, model, slug, duplicate)
    return slug


def reject_slug_key(payload: dict[str, Any]) -> None:
    if "slug" in payload:
        raise Invalid("Invalid payload", "Slug cannot be edited directly; it is derived from name.")


def rename(
    session: Session,
    row: SlugRow,
    name: str,
    slug: str,
    job_column: InstrumentedAttribute[Any],
    duplicate: Conflict,
) -> int:
    """Apply a rename; when the slug changes, rewrite every job using the old one (one UPDATE)."""
    old_slug = row.slug
    row.name = name
    if slug == old_slug:
        return 0
    row.slug = slug
    flush_unique(session, duplicate)
    result = session.execute(
        update(Job).where(job_column == old_slug).values({job_column: slug}),
        execution_options={"synchronize_session": "evaluate"},
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]  # rowcount is on CursorResult, typed Result


def disable(row: SlugRow) -> SlugRow:
    """Soft delete (idempotent); jobs keep the slug."""
    row.is_active = False
    return row

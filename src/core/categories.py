"""Job categories: resolution (contract 7.4)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from src.core.slugs import slugify
from src.models import JobCategory

GENERAL = "general"


def resolve_category(session: Session, raw: str | None) -> str | None:
    """The slug a raw category value names (blank → general), or None when it names none.

    Disabled categories still resolve; `general` resolves even without a row.
    """
    if raw is None or not raw.strip():
        return GENERAL
    slug = slugify(raw)
    found = session.scalar(select(JobCategory.slug).where(JobCategory.slug == slug))
    if found is None:
        found = session.scalar(
            select(JobCategory.slug).where(func.lower(JobCategory.name) == raw.strip().lower()).limit(1)
        )
    if found is None and slug == GENERAL:
        return GENERAL
    return found

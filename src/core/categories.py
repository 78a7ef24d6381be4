"""Job categories: resolution (contract 7.4) and the admin CRUD of 6.1-6.4."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from src.core import slug_tables
from src.core.errors import Conflict, Invalid, read_field
from src.core.slugs import slugify
from src.models import Job, JobCategory, User
from src.schemas.slug_table_bodies import CategoryCreateRequest, CategoryUpdateRequest

GENERAL = "general"
_NOT_FOUND = "No category found with ID: "


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


def _duplicate(slug: str) -> Conflict:
    return Conflict("Duplicate slug", f'Category slug "{slug}" already exists.')


def list_categories(session: Session, user: User, include_inactive: bool) -> list[JobCategory]:
    """Categories by lower-cased name; `include_inactive` counts for admins only."""
    return slug_tables.list_rows(session, JobCategory, user, include_inactive)


def get_category(session: Session, category_id: str) -> JobCategory:
    return slug_tables.get_row(session, JobCategory, category_id, _NOT_FOUND)


def create_category(session: Session, payload: dict[str, Any]) -> JobCategory:
    """A new active category; slug from `slug` or `name`, unique (409)."""
    name, slug = slug_tables.creation_slug(CategoryCreateRequest, payload)
    slug_tables.ensure_slug_free(session, JobCategory, slug, _duplicate(slug))
    category = JobCategory(name=name, slug=slug, is_active=True)
    session.add(category)
    slug_tables.flush_unique(session, _duplicate(slug))
    return category


def update_category(session: Session, category_id: str, payload: dict[str, Any]) -> tuple[JobCategory, int]:
    """Rename and/or toggle a category; returns it with the number of jobs whose slug was rewritten.

    Every check runs before anything changes, so an error leaves the row and the jobs untouched.
    """
    category = get_category(session, category_id)
    name = slug_tables.requested_name(CategoryUpdateRequest, payload)
    slug = category.slug
    if name is not None:
        if category.slug == GENERAL and name != category.name:
            raise Invalid("Invalid category", 'The "General" category cannot be renamed.')
        slug = slug_tables.free_slug_for(session, JobCategory, category, name, _duplicate(slugify(name)))
    slug_tables.reject_slug_key(payload)

    jobs_updated = 0
    if name is not None:
        jobs_updated = slug_tables.rename(session, category, name, slug, Job.category, _duplicate(slug))
    if "is_active" in payload:
        category.is_active = read_field(CategoryUpdateRequest, payload, "is_active")
    session.flush()
    return category, jobs_updated


def disable_category(session: Session, category_id: str) -> JobCategory:
    """Soft delete; jobs keep their category slug."""
    category = slug_tables.disable(get_category(session, category_id))
    session.flush()
    return category

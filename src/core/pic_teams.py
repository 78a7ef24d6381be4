"""PIC teams: resolution (contract 7.4) and the admin CRUD of 6.5-6.8."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from src.core import slug_tables
from src.core.errors import Conflict, read_field
from src.core.slugs import slugify
from src.models import Job, PicTeam, User
from src.schemas.slug_table_bodies import PicTeamCreateRequest, PicTeamUpdateRequest

_NOT_FOUND = "No PIC team found with ID: "


def find_team(session: Session, raw: str) -> PicTeam | None:
    """The team whose slug is slugify(raw), else whose name equals raw case-insensitively."""
    team = session.scalar(select(PicTeam).where(PicTeam.slug == slugify(raw)))
    if team is None:
        team = session.scalar(
            select(PicTeam).where(func.lower(PicTeam.name) == raw.strip().lower()).limit(1)
        )
    return team


def _duplicate(slug: str) -> Conflict:
    return Conflict("Duplicate slug", f'PIC team slug "{slug}" already exists.')


def list_teams(session: Session, user: User, include_inactive: bool) -> list[PicTeam]:
    """Teams by lower-cased name; `include_inactive` counts for admins only."""
    return slug_tables.list_rows(session, PicTeam, user, include_inactive)


def get_team(session: Session, team_id: str) -> PicTeam:
    return slug_tables.get_row(session, PicTeam, team_id, _NOT_FOUND)


def create_team(session: Session, payload: dict[str, Any]) -> PicTeam:
    """A new active team; slug unique (409) is checked before the required Slack handle."""
    name, slug = slug_tables.creation_slug(PicTeamCreateRequest, payload)
    slug_tables.ensure_slug_free(session, PicTeam, slug, _duplicate(slug))
    slack_handle = read_field(PicTeamCreateRequest, payload, "slack_handle")
    team = PicTeam(name=name, slug=slug, slack_handle=slack_handle, is_active=True)
    session.add(team)
    slug_tables.flush_unique(session, _duplicate(slug))
    return team


def update_team(session: Session, team_id: str, payload: dict[str, Any]) -> tuple[PicTeam, int]:
    """Rename, toggle and/or change the handle; returns the team and the number of jobs rewritten.

    Every check runs before anything changes, so an error leaves the row and the jobs untouched.
    """
    team = get_team(session, team_id)
    name = slug_tables.requested_name(PicTeamUpdateRequest, payload)
    slug = team.slug
    if name is not None:
        slug = slug_tables.free_slug_for(session, PicTeam, team, name, _duplicate(slugify(name)))
    slug_tables.reject_slug_key(payload)
    slack_handle = None
    if "slack_handle" in payload:
        slack_handle = read_field(PicTeamUpdateRequest, payload, "slack_handle")

    jobs_updated = 0
    if name is not None:
        jobs_updated = slug_tables.rename(session, team, name, slug, Job.pic_team, _duplicate(slug))
    if "is_active" in payload:
        team.is_active = read_field(PicTeamUpdateRequest, payload, "is_active")
    if slack_handle is not None:
        team.slack_handle = slack_handle
    session.flush()
    return team, jobs_updated


def disable_team(session: Session, team_id: str) -> PicTeam:
    """Soft delete; jobs keep their team slug (Slack still mentions the handle)."""
    team = slug_tables.disable(get_team(session, team_id))
    session.flush()
    return team

"""PIC teams: resolution (contract 7.4)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from src.core.slugs import slugify
from src.models import PicTeam


def find_team(session: Session, raw: str) -> PicTeam | None:
    """The team whose slug is slugify(raw), else whose name equals raw case-insensitively."""
    team = session.scalar(select(PicTeam).where(PicTeam.slug == slugify(raw)))
    if team is None:
        team = session.scalar(
            select(PicTeam).where(func.lower(PicTeam.name) == raw.strip().lower()).limit(1)
        )
    return team

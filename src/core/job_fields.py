"""The job rules of contract 7.1 beyond one field's value: names, categories and teams in the
database, targets, the end date against today, email storage. Shared with the bulk importer.

A field's own rule is its request model's (src/schemas/job_bodies.py). Callers decide the
order; section 7.1's table is the order for create and update.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from src.config import Settings
from src.core.categories import resolve_category
from src.core.clock import local_today
from src.core.errors import Invalid, refused_request
from src.core.pic_teams import find_team
from src.core.slugs import slugify
from src.models import Job
from src.schemas.contract_errors import Refused, field_value
from src.schemas.job_bodies import (
    CATEGORY_MESSAGE,
    INVALID_CATEGORY,
    INVALID_END_DATE,
    INVALID_TARGET_URL,
    TARGET_SCHEME_MESSAGE,
    JobCreateRequest,
)
from src.schemas.target_syntax import github_shorthand, is_webhook_url

# --- messages of the 7.1 table (the field rules' own are in src/schemas/job_bodies.py) ----------
DUPLICATE_NAME = "Duplicate job name"
END_DATE_PAST_MESSAGE = "end_date must be today or in the future (JST)."
INVALID_TEAM = "Invalid PIC team"
TEAM_REQUIRED_MESSAGE = "PIC team is required. Create one in Settings → PIC Teams."
TEAM_UNKNOWN_MESSAGE = "Unknown PIC team. Create it in Settings → PIC Teams first."
TEAM_DISABLED_MESSAGE = "PIC team is disabled. Enable it in Settings → PIC Teams or choose another."
MISSING_TARGET = "Missing target configuration"


def job_name_taken(session: Session, name: str, exclude_id: str | None = None) -> bool:
    """Rule 3: whether another job already has exactly this name (case-sensitive)."""
    query = select(Job.id).where(Job.name == name)
    if exclude_id is not None:
        query = query.where(Job.id != exclude_id)
    return session.scalar(query.limit(1)) is not None


def duplicate_name_error(name: str, *, on_update: bool = False) -> Invalid:
    """Rule 3's 400; the update (and bulk) message drops the "Please use a unique name." sentence."""
    message = f'A job with the name "{name}" already exists.'
    if not on_update:
        message += " Please use a unique name."
    return Invalid(DUPLICATE_NAME, message)


@dataclass(frozen=True)
class TargetFields:
    """A job's target columns after rules 5, 6 and the default-owner rule of 7.3."""

    target_url: str | None
    github_owner: str | None
    github_repo: str | None
    github_workflow_name: str | None

    @property
    def is_complete(self) -> bool:
        """Rule 16 / 4.4 step 6: a webhook URL, or repo + workflow + owner."""
        return bool(self.target_url) or bool(
            self.github_owner and self.github_repo and self.github_workflow_name
        )


def split_target_url(
    target_url: str | None, owner: str | None, repo: str | None, workflow: str | None
) -> TargetFields:
    """Rules 5–6 on trimmed values: GitHub shorthand moves into the GitHub fields; else http(s) only."""
    shorthand = github_shorthand(target_url)
    if shorthand is not None:
        return TargetFields(None, shorthand.owner, shorthand.repo, shorthand.workflow)
    if target_url and not is_webhook_url(target_url):
        raise Invalid(INVALID_TARGET_URL, TARGET_SCHEME_MESSAGE)
    return TargetFields(target_url, owner, repo, workflow)


def with_default_owner(fields: TargetFields, settings: Settings) -> TargetFields:
    """7.3: no target_url, repo + workflow set, blank owner → DEFAULT_GITHUB_OWNER."""
    if (
        not fields.target_url
        and fields.github_repo
        and fields.github_workflow_name
        and not fields.github_owner
    ):
        owner = settings.DEFAULT_GITHUB_OWNER.strip() or None
        return TargetFields(None, owner, fields.github_repo, fields.github_workflow_name)
    return fields


def normalize_target(
    target_url: str | None,
    owner: str | None,
    repo: str | None,
    workflow: str | None,
    settings: Settings,
) -> TargetFields:
    """Rules 5, 6 and the default owner of 7.3, on trimmed values (blank = None)."""
    return with_default_owner(split_target_url(target_url, owner, repo, workflow), settings)


def resolve_category_or_error(session: Session, raw: Any) -> str:
    """Rule 7: the category slug (blank/absent/null → general), else 400 "Invalid category"."""
    if raw is not None and not isinstance(raw, str):
        raise Invalid(INVALID_CATEGORY, CATEGORY_MESSAGE)
    slug = resolve_category(session, raw)
    if slug is None:
        raise Invalid(INVALID_CATEGORY, CATEGORY_MESSAGE)
    return slug


def parse_end_date(value: Any) -> date | None:
    """Rule 10 as the job bodies state it: blank/null → None; a `YYYY-MM-DD` string → date."""
    try:
        end_date: date | None = field_value(JobCreateRequest, "end_date", value)
        return end_date
    except Refused as refused:
        raise refused_request(refused.body) from None


def check_end_date_not_past(
    end_date: date, settings: Settings, *, now: datetime | None = None,
    message: str = END_DATE_PAST_MESSAGE,
) -> None:
    """Rule 12: `end_date` ≥ today in the scheduler timezone (today itself is allowed)."""
    if end_date < local_today(settings.scheduler_tz, now):
        raise Invalid(INVALID_END_DATE, message)


def is_expired(end_date: date | None, settings: Settings, *, now: datetime | None = None) -> bool:
    """8.4: a job is expired when its end_date is before today (scheduler tz); null never expires."""
    return end_date is not None and end_date < local_today(settings.scheduler_tz, now)


def pic_team_input(payload: dict[str, Any]) -> Any:
    """The raw team value: `pic_team` when non-blank, else `pic_team_slug`."""
    value = payload.get("pic_team")
    if value is None or (isinstance(value, str) and not value.strip()):
        return payload.get("pic_team_slug")
    return value


class InvalidTeam(Invalid):
    """Rules 13–15's 400, carrying (outside the body) what bulk upload reports per row."""

    def __init__(self, message: str, raw: str | None, slug: str | None) -> None:
        super().__init__(INVALID_TEAM, message)
        self.raw = raw
        self.slug = slug


def resolve_active_team(session: Session, raw: Any) -> str:
    """Rules 13–15: the slug of the active team named by `raw` (slug or display name)."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise InvalidTeam(TEAM_REQUIRED_MESSAGE, None, None)
    if not isinstance(raw, str):
        raise InvalidTeam(TEAM_UNKNOWN_MESSAGE, None, None)
    team = find_team(session, raw)
    if team is None:
        raise InvalidTeam(TEAM_UNKNOWN_MESSAGE, raw.strip(), slugify(raw) or None)
    if not team.is_active:
        raise InvalidTeam(TEAM_DISABLED_MESSAGE, raw.strip(), team.slug)
    return team.slug


def missing_target_error() -> Invalid:
    """Rule 16's 400 (create)."""
    return Invalid(
        MISSING_TARGET,
        'Please provide either "target_url" or GitHub Actions configuration '
        "(github_owner, github_repo, github_workflow_name)",
    )


def emails_to_text(emails: list[str]) -> str | None:
    """Storage form of notification_emails: comma-separated, or None when empty."""
    return ",".join(emails) or None


def emails_from_text(text: str | None) -> list[str]:
    """Wire form of stored notification_emails: trimmed, empties removed."""
    return [item.strip() for item in (text or "").split(",") if item.strip()]


def unique_emails(addresses: Iterable[str]) -> list[str]:
    """Trimmed, blanks dropped, de-duplicated case-insensitively (first spelling kept)."""
    unique: dict[str, str] = {}
    for address in addresses:
        if address.strip():
            unique.setdefault(address.strip().lower(), address.strip())
    return list(unique.values())


def json_object(text: str | None) -> dict[str, Any]:
    """Stored JSON text as an object: `{}` when null, invalid JSON or not an object."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}

"""`GET /jobs` with query parameters (contract 4.1): filter, search, sort and page the list.

Without any of the parameters the answer is the whole list as before (served by
`job_list_cache`); `job_query` says which case a request is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from src.models import Job
from src.schemas.job_bodies import JobListQuery

SORT_KEYS = {"name": Job.name, "created_at": Job.created_at, "updated_at": Job.updated_at, "end_date": Job.end_date}
DEFAULT_SORT = "-created_at"


@dataclass(frozen=True)
class JobQuery:
    page: int
    limit: int
    q: str | None
    status: str | None
    category: str | None
    pic_team: str | None
    sort: str


def job_query(params: JobListQuery) -> JobQuery | None:
    """The query of a `GET /jobs`, or None when it names none of the parameters (the whole list)."""
    if not params.model_fields_set:
        return None
    return JobQuery(
        page=params.page, limit=params.limit, q=params.q, status=params.status, category=params.category,
        pic_team=params.pic_team, sort=params.sort or DEFAULT_SORT,
    )


def _like(text: str) -> str:
    escaped = text.lower().replace("!", "!!").replace("%", "!%").replace("_", "!_")
    return f"%{escaped}%"


def _conditions(query: JobQuery) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if query.q:
        pattern = _like(query.q)
        conditions.append(or_(*(func.lower(column).like(pattern, escape="!")
                                for column in (Job.name, Job.target_url, Job.github_repo))))
    if query.status:
        conditions.append(Job.is_active.is_(query.status == "active"))
    if query.category:
        conditions.append(Job.category == query.category)
    if query.pic_team:
        conditions.append(Job.pic_team == query.pic_team)
    return conditions


@dataclass(frozen=True)
class JobPage:
    jobs: list[Any]
    total: int
    page: int
    limit: int

    @property
    def total_pages(self) -> int:
        return -(-self.total // self.limit) if self.total else 0


def query_jobs(session: Session, query: JobQuery) -> JobPage:
    """One page of the matching jobs (read-only rows with the `Job` attribute names) and their total."""
    conditions = _conditions(query)
    total = session.scalar(select(func.count(Job.id)).where(*conditions)) or 0
    column = SORT_KEYS[query.sort.removeprefix("-")]
    order = column.desc() if query.sort.startswith("-") else column.asc()
    rows = session.execute(
        select(*Job.__table__.columns).where(*conditions).order_by(order, Job.id)
        .offset((query.page - 1) * query.limit).limit(query.limit)
    )
    return JobPage(list(rows), total, query.page, query.limit)

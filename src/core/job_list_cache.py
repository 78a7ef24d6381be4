"""`GET /jobs` rendered once per change: the JSON body of the full list, reused until it changes.

The SPA asks for every job on each dashboard view; rendering a busy install's list is costly
while the answer rarely changes. The body depends on the jobs' rows, each
job's latest execution start and, through `next_execution_at`, the current minute; a fingerprint of
those (one cheap statement on indexed columns) decides whether the kept body is still the answer,
so a change made through either door or by another process shows at once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from src.config import Settings
from src.core import jobs
from src.core.job_queries import JobPage, JobQuery, query_jobs
from src.core.job_views import JobView, job_views
from src.models import Job, JobExecution

# The doors' renderers (`src.schemas.jobs`): the JSON body of the whole list, and of one page.
RenderList = Callable[[list[JobView]], bytes]
RenderPage = Callable[[JobPage, list[JobView]], bytes]

_FINGERPRINT = select(
    func.count(Job.id),
    func.max(Job.updated_at),
    select(func.max(JobExecution.started_at)).scalar_subquery(),
)


@dataclass(frozen=True)
class RenderedJobList:
    body: bytes
    etag: str


class JobListCache:
    """The last rendered job list of this process (one per app; threads may share it)."""

    def __init__(self, render: RenderList) -> None:
        self._render = render
        self._entry: tuple[tuple[Any, ...], RenderedJobList] | None = None

    def get(self, session: Session, settings: Settings, now: datetime | None = None) -> RenderedJobList:
        """The current list's body and ETag, rendered again only when its fingerprint moved."""
        now = (now or datetime.now(UTC)).astimezone(UTC)
        minute = now.replace(second=0, microsecond=0)
        count, last_update, last_start = session.execute(_FINGERPRINT).one()
        # next_execution_at is the same all minute long except at its first instant (cron.next_fire).
        key = (count, last_update, last_start, minute, now == minute, settings.SCHEDULER_TIMEZONE)
        entry = self._entry
        if entry is not None and entry[0] == key:
            return entry[1]
        rendered = _rendered(self._render(job_views(session, settings, jobs.list_jobs(session), now, every_job=True)))
        # Two threads missing at once both render; either result is right, the last one stays.
        self._entry = (key, rendered)
        return rendered


def _rendered(body: bytes) -> RenderedJobList:
    return RenderedJobList(body, f'"{hashlib.sha256(body).hexdigest()[:32]}"')


def render_job_query(session: Session, settings: Settings, query: JobQuery, render: RenderPage) -> RenderedJobList:
    """A filtered, sorted page of the list (not kept: each query is rendered when asked)."""
    page = query_jobs(session, query)
    return _rendered(render(page, job_views(session, settings, page.jobs)))


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Whether a conditional GET's `If-None-Match` names this ETag (or `*`)."""
    if not if_none_match:
        return False
    candidates = {part.strip().removeprefix("W/") for part in if_none_match.split(",")}
    return etag in candidates or "*" in candidates


def job_list_headers(rendered: RenderedJobList) -> dict[str, str]:
    """Validators for the list: browsers revalidate each time and get a 304 while it is unchanged."""
    return {"ETag": rendered.etag, "Cache-Control": "no-cache"}

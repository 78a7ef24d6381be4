"""The kept GET /jobs rendering follows the clock: next_execution_at moves with the minute."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from src.config import Settings
from src.core.job_list_cache import JobListCache, etag_matches
from src.schemas.jobs import job_list_body
from tests.conftest import Factory


def listed_next_run(cache: JobListCache, db: Session, settings: Settings, now: datetime) -> str:
    return json.loads(cache.get(db, settings, now=now).body)["jobs"][0]["next_execution_at"]


def test_next_execution_at_moves_on_when_the_minute_turns(db: Session, settings: Settings, factory: Factory) -> None:
    factory.job(cron_expression="* * * * *")
    cache = JobListCache(job_list_body)
    first = listed_next_run(cache, db, settings, datetime(2026, 3, 1, 0, 0, 30, tzinfo=UTC))
    later_same_minute = listed_next_run(cache, db, settings, datetime(2026, 3, 1, 0, 0, 59, tzinfo=UTC))
    next_minute = listed_next_run(cache, db, settings, datetime(2026, 3, 1, 0, 1, 30, tzinfo=UTC))
    assert first == later_same_minute == "2026-03-01T09:01:00+09:00"
    assert next_minute == "2026-03-01T09:02:00+09:00"


def test_a_fire_due_this_instant_is_listed_as_next(db: Session, settings: Settings, factory: Factory) -> None:
    factory.job(cron_expression="* * * * *")
    cache = JobListCache(job_list_body)
    listed_next_run(cache, db, settings, datetime(2026, 3, 1, 0, 1, 30, tzinfo=UTC))
    assert (
        listed_next_run(cache, db, settings, datetime(2026, 3, 1, 0, 2, 0, tzinfo=UTC)) == "2026-03-01T09:02:00+09:00"
    )


def test_etag_matching_accepts_lists_weak_forms_and_star() -> None:
    assert etag_matches('"a", W/"b"', '"b"')
    assert etag_matches("*", '"b"')
    assert not etag_matches('"a"', '"b"')
    assert not etag_matches(None, '"b"')

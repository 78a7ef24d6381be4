"""A job create is one transaction: a failure after its insert leaves the database as it was.

On SQLite the duplicate-safe insert runs in a savepoint issued before the unit's first write;
pysqlite had not opened a transaction yet, so the savepoint's RELEASE committed the job on its
own (src/database/engines.py, `_begin_before_savepoint`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from src.config import Settings
from src.core import jobs
from src.core.clock import local_today
from src.core.unit_of_work import unit_of_work
from src.database.engines import create_sync_engine_from_settings, make_session_factory
from src.models import Job, Notification
from tests.conftest import Factory


class BroadcastFailed(RuntimeError):
    pass


def _fail(*_args: Any, **_kwargs: Any) -> int:
    raise BroadcastFailed("the broadcast after the insert failed")


def test_a_create_whose_broadcast_fails_stores_no_job(
    settings: Settings, factory: Factory, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = factory.user("admin")
    factory.team("Team A", slug="team-a")
    monkeypatch.setattr(jobs, "notify_all_users", _fail)
    body = {"name": "Half written", "cron_expression": "0 2 * * *", "pic_team": "team-a",
            "end_date": (local_today(settings.scheduler_tz) + timedelta(days=30)).isoformat(),
            "target_url": "https://hooks.example.com/run"}
    engine = create_sync_engine_from_settings(settings)
    try:
        with pytest.raises(BroadcastFailed), unit_of_work(make_session_factory(engine)) as session:
            jobs.create_job(session, settings, admin, body)
    finally:
        engine.dispose()
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Job).where(Job.name == "Half written")) == 0
    assert db.scalar(select(func.count()).select_from(Notification)) == 0

"""No N+1 on either door: list endpoints issue as many SQL statements for 500 rows as for 5."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, insert
from sqlalchemy.orm import Session

from src.config import Settings
from src.models import Job, JobCategory, JobExecution, Notification, PicTeam, User
from src.models.base import new_id
from tests.conftest import Factory, legacy_door_param
from tests.sql_statements import counting

FEW, MANY = 5, 500
LISTS = {
    "jobs": "/jobs",
    "executions": "/executions?limit=200",
    "job executions": "/jobs/{job}/executions?limit=200",
    "notifications": "/notifications?per_page=100",
    "users": "/auth/users",
    "categories": "/job-categories?include_inactive=true",
    "pic teams": "/pic-teams?include_inactive=true",
}


class Rows:
    """Grows every listed table to a target size with bulk inserts (one statement per table)."""

    def __init__(self, db: Session, admin: User, job: Job) -> None:
        self.db, self.admin, self.job, self.size = db, admin, job, 0

    def grow_to(self, size: int) -> None:
        new = range(self.size, size)
        now = datetime(2025, 1, 1)
        users = [{"id": new_id(), "username": f"bulk{n}", "email": f"bulk{n}@example.com",
                  "password_hash": self.admin.password_hash, "role": ("admin", "user", "viewer")[n % 3],
                  "is_active": n % 4 != 0, "created_at": now + timedelta(seconds=n), "updated_at": now}
                 for n in new]
        jobs = [{"id": new_id(), "name": f"bulk-job-{n}", "cron_expression": "0 2 * * *",
                 "target_url": "http://127.0.0.1:9/hook", "category": "general", "pic_team": "team-a",
                 "end_date": date.today() + timedelta(days=30), "is_active": n % 2 == 0,
                 "created_by": users[i]["id"], "notification_emails": "a@example.com",
                 "created_at": now + timedelta(seconds=n), "updated_at": now}
                for i, n in enumerate(new)]
        runs = [{"id": new_id(), "job_id": job["id"], "status": "success", "trigger_type": "scheduled",
                 "started_at": now + timedelta(minutes=n), "execution_type": "webhook"}
                for n, job in zip(new, jobs, strict=True)]
        runs += [{"id": new_id(), "job_id": self.job.id, "status": ("success", "failed", "running")[n % 3],
                  "trigger_type": "manual", "started_at": now + timedelta(minutes=n, seconds=30)} for n in new]
        notes = [{"id": new_id(), "user_id": self.admin.id, "title": f"n{n}", "message": "m", "type": "info",
                  "related_job_id": jobs[i]["id"], "related_execution_id": runs[i]["id"],
                  "is_read": n % 2 == 0, "created_at": now + timedelta(seconds=n)}
                 for i, n in enumerate(new)]
        categories = [{"id": new_id(), "slug": f"bulk-category-{n}", "name": f"Bulk Category {n}",
                       "is_active": n % 3 != 0} for n in new]
        teams = [{"id": new_id(), "slug": f"bulk-team-{n}", "name": f"Bulk Team {n}", "slack_handle": f"@t{n}",
                  "is_active": n % 3 != 0} for n in new]
        for model, values in ((User, users), (Job, jobs), (JobExecution, runs), (Notification, notes),
                              (JobCategory, categories), (PicTeam, teams)):
            self.db.execute(insert(model), values)
        self.db.commit()
        self.size = size


@contextmanager
def flask_door(settings: Settings) -> Iterator[tuple[httpx.Client, Engine, str]]:
    from src.flask_app import create_app

    app = create_app(settings)
    with app.app_context():
        engine = app.extensions["sqlalchemy"].engine
    try:
        with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://testserver") as client:
            yield client, engine, "/api"
    finally:
        app.extensions["runtime"].close()


@contextmanager
def fastapi_door(settings: Settings) -> Iterator[tuple[httpx.Client, Engine, str]]:
    from fastapi.testclient import TestClient

    from src.fastapi_app.main import create_app

    app = create_app(settings)
    with TestClient(app, base_url="http://testserver") as client:
        # The lifespan has opened the engine; every request's statements go through it.
        yield client, app.state.sync_engine, "/api/v2"


DOORS: dict[str, Callable[[Settings], Any]] = {"flask": flask_door, "fastapi": fastapi_door}


def statement_counts(client: httpx.Client, engine: Engine, prefix: str, token: str, job: Job,
                     expected_sizes: int) -> dict[str, int]:
    counts = {}
    for name, path in LISTS.items():
        with counting(engine) as statements:
            response = client.get(prefix + path.format(job=job.id), headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, (name, response.text[:200])
        assert len(response.text) > 100 * expected_sizes, name  # the rows were really rendered
        counts[name] = len(statements)
    return counts


@pytest.mark.parametrize("door", [legacy_door_param("flask"), "fastapi"])
def test_list_endpoints_issue_the_same_statements_for_5_and_500_rows(
    door: str, settings: Settings, factory: Factory, db: Session
) -> None:
    admin = factory.user("admin")
    factory.team("Team A", slug="team-a")
    job = factory.job(admin, name="target")
    token = factory.token(admin)
    rows = Rows(db, admin, job)
    with DOORS[door](settings) as (client, engine, prefix):
        rows.grow_to(FEW)
        few = statement_counts(client, engine, prefix, token, job, FEW)
        rows.grow_to(MANY)
        many = statement_counts(client, engine, prefix, token, job, 100)
    assert few == many
    assert all(count > 0 for count in few.values())

"""The benchmark's own database: created fresh, migrated, given users and job sets, then checked.

SQLite: a file in a temporary folder. PostgreSQL: the server named by the URL gets a fresh
`bench_scheduler` database (dropped and created through the `postgres` maintenance database);
no other database on that server is touched.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy import Engine, insert, select
from sqlalchemy.engine import make_url

from src.config import Settings
from src.core.passwords import hash_password
from src.database.engines import create_sync_engine_from_settings
from src.database.migrate import upgrade_to_head
from src.models import Job, JobExecution, User
from src.models.base import new_id, utcnow

BENCH_DATABASE = "bench_scheduler"
ADMIN_USERNAME = "bench-admin"
ADMIN_PASSWORD = "bench-password-1"
# As many users as issue 6's seed: every finished run notifies each of them (contract 8.5).
USER_COUNT = 20


def backend_name(database_url: str) -> str:
    """`sqlite` or `postgresql` (names the results file)."""
    return make_url(database_url).get_backend_name()


def fresh_database(database_url: str | None, folder: Path) -> str:
    """The URL of an empty database for this run: a temp SQLite file, or `bench_scheduler` on PG."""
    if database_url is None or backend_name(database_url) == "sqlite":
        return f"sqlite:///{folder / 'scheduler-bench.db'}"
    url = make_url(database_url)
    maintenance = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(maintenance, autocommit=True) as connection:
        name = sql.Identifier(BENCH_DATABASE)
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(name))
    return url.set(drivername="postgresql+psycopg", database=BENCH_DATABASE).render_as_string(hide_password=False)


def drop_database(database_url: str) -> None:
    """Remove `bench_scheduler` after the run (SQLite files go with their temporary folder)."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql" or url.database != BENCH_DATABASE:
        return
    maintenance = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(maintenance, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(BENCH_DATABASE)))


def prepare(settings: Settings) -> tuple[Engine, str]:
    """Migrate to head and add the users; returns a sync engine and the admin's id."""
    upgrade_to_head(settings)
    engine = create_sync_engine_from_settings(settings)
    password_hash = hash_password(ADMIN_PASSWORD)  # one pbkdf2 hash, shared: only the admin logs in
    admin_id = new_id()
    roles = ["admin"] + ["user"] * 12 + ["viewer"] * (USER_COUNT - 13)
    rows = [
        {"id": admin_id if i == 0 else new_id(), "username": ADMIN_USERNAME if i == 0 else f"bench-{role}-{i}",
         "email": f"bench-{i}@example.com", "password_hash": password_hash, "role": role, "is_active": True,
         "created_at": utcnow(), "updated_at": utcnow()}
        for i, role in enumerate(roles)
    ]
    with engine.begin() as connection:
        connection.execute(insert(User), rows)
    return engine, admin_id


@dataclass(frozen=True)
class JobSet:
    """`count` webhook jobs sharing one cron expression, each posting to `<base>/<label>/<job id>`."""

    label: str
    ids: list[str]
    cron: str

    def path(self, job_id: str) -> str:
        return f"/{self.label}/{job_id}"


def insert_jobs(engine: Engine, admin_id: str, label: str, count: int, cron: str, receiver_base: str) -> JobSet:
    """Insert the set in one statement (as a seed would; the scheduler learns of it by its sync)."""
    ids = [new_id() for _ in range(count)]
    now = utcnow()
    rows = [
        {"id": job_id, "name": f"{label}-{n:05d}", "cron_expression": cron,
         "target_url": f"{receiver_base}/{label}/{job_id}", "job_metadata": json.dumps({"bench": label}),
         "category": "general", "end_date": None, "created_by": admin_id, "is_active": True,
         "enable_email_notifications": False, "notify_on_success": False, "created_at": now, "updated_at": now}
        for n, job_id in enumerate(ids)
    ]
    with engine.begin() as connection:
        for start in range(0, count, 2000):
            connection.execute(insert(Job), rows[start:start + 2000])
    return JobSet(label, ids, cron)


@dataclass
class ExecutionCheck:
    """The executions table for one set's fire: one `scheduled` row per job is the expectation."""

    rows: int
    jobs_with_one: int
    jobs_with_none: int
    jobs_with_several: int
    other_fire_times: int
    still_running: int
    failed: int


def check_executions(engine: Engine, job_set: JobSet, fire_time: datetime) -> ExecutionCheck:
    """Count the set's scheduled rows per job at `fire_time` (naive UTC) and anything else."""
    query = (
        select(JobExecution.job_id, JobExecution.scheduled_for, JobExecution.status)
        .join(Job, Job.id == JobExecution.job_id)
        .where(Job.name.like(f"{job_set.label}-%"), JobExecution.trigger_type == "scheduled")
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    at_fire = Counter(job_id for job_id, scheduled_for, _ in rows if scheduled_for == fire_time)
    counts = [at_fire.get(job_id, 0) for job_id in job_set.ids]
    return ExecutionCheck(
        rows=len(rows),
        jobs_with_one=sum(1 for c in counts if c == 1),
        jobs_with_none=sum(1 for c in counts if c == 0),
        jobs_with_several=sum(1 for c in counts if c > 1),
        other_fire_times=sum(1 for _, scheduled_for, _ in rows if scheduled_for != fire_time),
        still_running=sum(1 for *_, status in rows if status == "running"),
        failed=sum(1 for *_, status in rows if status == "failed"),
    )

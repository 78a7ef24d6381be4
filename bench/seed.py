"""Seed a fresh benchmark database with issue 6's data set (users, teams, jobs, executions, notifications).

    .venv/bin/python -m bench.seed --database-url URL [--scale 1.0] [--seed 6]

The database is recreated first (a SQLite file is deleted; a PostgreSQL database is dropped and
created through the `postgres` maintenance database), migrated to head, then filled with bulk
inserts. Same seed, same rows (timestamps are relative to the current UTC hour).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, create_engine, text
from sqlalchemy.engine import make_url

from src.config import DEFAULT_SQLITE_URL, Settings
from src.core.passwords import hash_password
from src.database.engines import create_sync_engine_from_settings, is_sqlite, sync_url
from src.database.migrate import upgrade_to_head
from src.models import Job, JobCategory, JobExecution, Notification, PicTeam, User, utcnow

BENCH_ADMIN_USERNAME = "bench-admin"
BENCH_ADMIN_EMAIL = "bench-admin@example.com"
BENCH_ADMIN_PASSWORD = "bench-password-6"
# Databases this tool must never drop: the server's own, the test suite's, and its clones.
PROTECTED_DATABASES = {"postgres", "template0", "template1", "test"}
PROTECTED_PREFIX = "cronjobs_"

# The full-scale counts; --scale multiplies the three large ones.
USERS_BY_ROLE = {"admin": 4, "user": 10, "viewer": 6}
CATEGORY_COUNT = 10
TEAM_COUNT = 8
JOB_COUNT = 2_000
EXECUTION_COUNT = 100_000
NOTIFICATION_COUNT = 50_000
HISTORY_DAYS = 90
BATCH_SIZE = 5_000

# Several kinds of crontab: intervals, daily, weekdays, monthly, names, lists, ranges.
CRON_EXPRESSIONS = [
    "*/5 * * * *", "*/15 * * * *", "0 * * * *", "30 */2 * * *", "0 */6 * * *",
    "0 2 * * *", "30 9 * * *", "15 18 * * *", "0 9 * * 1-5", "*/30 9-18 * * mon-fri",
    "0 0 * * sun", "45 23 * * 6", "0 12 1,15 * *", "15 3 1 * *", "0 6 1 jan,apr,jul,oct *",
    "10 4 * * 0,3", "0 8-17/3 * * *", "5 0 1-7 * 1",
]
EXTRA_CATEGORIES = ["Smoke", "Performance", "Data Sync", "Security Scan", "Nightly Build"]
TEAM_NAMES = ["Team A", "Team B", "Payments", "Platform", "Mobile", "Data", "Growth", "SRE"]


@dataclass
class SeedSummary:
    """What was written, for printing and for the API benchmark."""

    database_url: str
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    admin_username: str = BENCH_ADMIN_USERNAME
    admin_password: str = BENCH_ADMIN_PASSWORD

    def describe(self) -> str:
        counts = ", ".join(f"{name} {count:,}" for name, count in self.counts.items())
        return (f"seeded {make_url(self.database_url).render_as_string(hide_password=True)} in "
                f"{self.seconds:.1f} s: {counts}\n"
                f"bench admin login: username {self.admin_username!r}, password {self.admin_password!r}")


def recreate_database(database_url: str) -> None:
    """Start from nothing: delete the SQLite file, or drop and create the PostgreSQL database."""
    url = make_url(sync_url(database_url))
    if is_sqlite(database_url):
        if not url.database or url.database == ":memory:":
            raise SystemExit("error: the SQLite URL must name a file")
        if sync_url(database_url) == sync_url(DEFAULT_SQLITE_URL):
            raise SystemExit("error: refusing to recreate the development database (var/cronjobs.db)")
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(url.database + suffix).unlink(missing_ok=True)
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        return
    name = url.database or ""
    if not name or name in PROTECTED_DATABASES or name.startswith(PROTECTED_PREFIX):
        raise SystemExit(f"error: refusing to drop database {name!r}; name a bench database such as 'bench'")
    # CREATE/DROP DATABASE cannot run in a transaction: autocommit on the maintenance database.
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()


class Seeder:
    """Builds the rows from one random.Random, so a seed always gives the same data set."""

    def __init__(self, seed: int, scale: float, now: datetime) -> None:
        self.rng = random.Random(seed)
        self.scale = scale
        self.now = now
        self.today = now.date()

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def scaled(self, count: int) -> int:
        return max(1, round(count * self.scale))

    def moment_within(self, days: float) -> datetime:
        """A random instant in the last `days` days, millisecond precision."""
        offset = timedelta(milliseconds=self.rng.randrange(int(days * 86_400_000)))
        return self.now - offset

    def users(self) -> list[dict[str, Any]]:
        rows = []
        for role, count in USERS_BY_ROLE.items():
            for n in range(1, count + 1):
                first_admin = role == "admin" and n == 1
                username = BENCH_ADMIN_USERNAME if first_admin else f"bench-{role}-{n}"
                created = self.moment_within(365)
                rows.append({
                    "id": self.uuid(), "username": username,
                    "email": BENCH_ADMIN_EMAIL if first_admin else f"{username}@example.com",
                    # One pbkdf2 hash per user (own salt), as production stores them.
                    "password_hash": hash_password(BENCH_ADMIN_PASSWORD if first_admin else f"pw-{username}"),
                    "role": role, "is_active": first_admin or self.rng.random() < 0.9,
                    "created_at": created, "updated_at": created,
                })
        return rows

    def categories(self, existing_slugs: set[str]) -> list[dict[str, Any]]:
        """Enough extra categories for CATEGORY_COUNT in all, next to the migration's defaults."""
        from src.core.slugs import slugify

        missing = max(0, CATEGORY_COUNT - len(existing_slugs))
        rows = []
        for name in EXTRA_CATEGORIES[:missing]:
            created = self.moment_within(365)
            rows.append({"id": self.uuid(), "slug": slugify(name), "name": name, "is_active": True,
                         "created_at": created, "updated_at": created})
        return rows

    def teams(self) -> list[dict[str, Any]]:
        from src.core.slugs import slugify

        rows = []
        for name in TEAM_NAMES[:TEAM_COUNT]:
            created = self.moment_within(365)
            rows.append({"id": self.uuid(), "slug": slugify(name), "name": name,
                         "slack_handle": f"@{slugify(name)}", "is_active": True,
                         "created_at": created, "updated_at": created})
        return rows

    def jobs(self, owners: list[str], categories: list[str], teams: list[str]) -> list[dict[str, Any]]:
        rows = []
        for n in range(1, self.scaled(JOB_COUNT) + 1):
            webhook = self.rng.random() < 0.6
            active = self.rng.random() < 0.85
            created = self.moment_within(180)
            emails = self.rng.random() < 0.2
            rows.append(
                {
                    "id": self.uuid(),
                    "name": f"bench-job-{n:05d}",
                    "cron_expression": self.rng.choice(CRON_EXPRESSIONS),
                    # Loopback only: nothing here may ever reach another machine.
                    "target_url": f"http://127.0.0.1:9/hooks/{n}" if webhook else None,
                    "github_owner": None if webhook else "bench-org",
                    "github_repo": None if webhook else f"service-{n % 97}",
                    "github_workflow_name": None
                    if webhook
                    else self.rng.choice(["deploy.yml", "e2e.yml", "smoke.yml"]),
                    "job_metadata": json.dumps(
                        {"branchDetails": "main", "suite": self.rng.choice(["smoke", "full", "api"])}
                    ),
                    "category": self.rng.choice(categories),
                    "end_date": self._end_date(active),
                    "pic_team": self.rng.choice(teams),
                    "enable_email_notifications": emails,
                    "notification_emails": "oncall@example.com,qa@example.com" if emails else None,
                    "notify_on_success": emails and self.rng.random() < 0.5,
                    "created_by": self.rng.choice(owners),
                    "is_active": active,
                    "created_at": created,
                    "updated_at": created + timedelta(days=self.rng.random() * (self.now - created).days),
                }
            )
        return rows

    def _end_date(self, active: bool) -> date | None:
        if self.rng.random() < 0.05:
            return None  # legacy rows without an end date
        if active:
            return self.today + timedelta(days=self.rng.randrange(1, 365))
        return self.today + timedelta(days=self.rng.randrange(-120, 120))

    def executions(self, jobs: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """Spread evenly over HISTORY_DAYS: each row gets its own second, so (job, fire time) is unique."""
        count = self.scaled(EXECUTION_COUNT)
        spacing = HISTORY_DAYS * 86_400 / count
        start = self.now - timedelta(days=HISTORY_DAYS)
        for i in range(count):
            job = self.rng.choice(jobs)
            fire = (start + timedelta(seconds=int(i * spacing))).replace(microsecond=0)
            started = fire + timedelta(milliseconds=self.rng.randrange(5, 1500))
            roll = self.rng.random()
            status = "success" if roll < 0.80 else "failed" if roll < 0.95 else "running"
            scheduled = self.rng.random() < 0.85
            yield self._execution(job, status, scheduled, fire, started)

    def _execution(self, job: dict[str, Any], status: str, scheduled: bool,
                   fire: datetime, started: datetime) -> dict[str, Any]:
        webhook = job["target_url"] is not None
        row: dict[str, Any] = {
            "id": self.uuid(), "job_id": job["id"], "status": status,
            "trigger_type": "scheduled" if scheduled else "manual", "started_at": started,
            "completed_at": None, "duration_seconds": None,
            "execution_type": "webhook" if webhook else "github_actions",
            "target": job["target_url"] if webhook else
            f"{job['github_owner']}/{job['github_repo']}/{job['github_workflow_name']}",
            "response_status": None, "error_message": None, "output": None,
            "scheduled_for": fire if scheduled else None,
        }
        if status == "running":
            return row
        duration = round(self.rng.uniform(0.05, 30.0), 3)
        row["completed_at"] = started + timedelta(seconds=duration)
        row["duration_seconds"] = duration
        if status == "success":
            row["response_status"] = 200 if webhook else 204
            row["output"] = '{"ok": true}' if webhook else "Workflow triggered successfully on branch main"
        elif webhook:
            code = self.rng.choice([500, 502, 404])
            row.update(response_status=code, error_message=f"Webhook returned status {code}",
                       output='{"error": "upstream"}')
        else:
            row.update(response_status=422, error_message=(
                'GitHub Actions dispatch failed. Status: 422, Response: {"message": "Unexpected inputs provided"}'))
        return row

    def notifications(self, users: list[str], jobs: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        kinds = [("Job Completed", "success", 'Job "{}" completed successfully.'),
                 ("Job Failed", "error", 'Job "{}" failed: Webhook returned status 500'),
                 ("Job Updated", "info", 'Job "{}" was updated by bench-admin@example.com.'),
                 ("New Job Created", "info", 'Job "{}" was created by bench-admin@example.com.'),
                 ("Job Disabled", "warning", 'Job "{}" was disabled by bench-admin@example.com.')]
        for _ in range(self.scaled(NOTIFICATION_COUNT)):
            title, kind, message = self.rng.choice(kinds)
            job = self.rng.choice(jobs)
            created = self.moment_within(HISTORY_DAYS)
            read = self.rng.random() < 0.7
            yield {"id": self.uuid(), "user_id": self.rng.choice(users), "title": title,
                   "message": message.format(job["name"]), "type": kind, "related_job_id": job["id"],
                   "related_execution_id": None, "is_read": read,
                   "read_at": created + timedelta(hours=self.rng.random() * 48) if read else None,
                   "created_at": created}


def _batches(rows: Iterable[dict[str, Any]], size: int = BATCH_SIZE) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def insert_rows(connection: Connection, table: Table, rows: Iterable[dict[str, Any]]) -> int:
    """Bulk inserts in batches: COPY on PostgreSQL, core executemany elsewhere."""
    if connection.dialect.name == "postgresql":
        return _copy(connection, table, rows)
    written = 0
    for batch in _batches(rows):
        connection.execute(table.insert(), batch)
        written += len(batch)
    return written


def _copy(connection: Connection, table: Table, rows: Iterable[dict[str, Any]]) -> int:
    # COPY is several times faster than multi-row INSERTs for 100,000 rows (one round trip per batch).
    written = 0
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]  # None here fails the test, as it should
    for batch in _batches(rows):
        columns = list(batch[0])
        with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in batch:
                copy.write_row([row[column] for column in columns])
        written += len(batch)
    return written


def bench_settings(database_url: str, **overrides: Any) -> Settings:
    """Settings for a bench process on `database_url`; a developer's .env is not read."""
    return Settings(_env_file=None, DATABASE_URL=database_url, **overrides)  # type: ignore[call-arg]  # pydantic-settings' _env_file is no declared field


def seed(database_url: str, scale: float = 1.0, seed_value: int = 6) -> SeedSummary:
    """Recreate, migrate and fill the database; returns the counts."""
    started = time.monotonic()
    recreate_database(database_url)
    settings = bench_settings(database_url)
    upgrade_to_head(settings)
    now = utcnow().replace(minute=0, second=0, microsecond=0)
    seeder = Seeder(seed_value, scale, now)
    summary = SeedSummary(database_url)
    engine = create_sync_engine_from_settings(settings)
    try:
        with engine.begin() as connection:
            users = seeder.users()
            summary.counts["users"] = insert_rows(connection, User.__table__, users)
            existing = set(connection.execute(JobCategory.__table__.select().with_only_columns(
                JobCategory.__table__.c.slug)).scalars())
            extra = seeder.categories(existing)
            insert_rows(connection, JobCategory.__table__, extra)
            summary.counts["categories"] = len(existing) + len(extra)
            teams = seeder.teams()
            summary.counts["pic_teams"] = insert_rows(connection, PicTeam.__table__, teams)
            owners = [u["id"] for u in users if u["role"] in ("admin", "user")]
            jobs = seeder.jobs(owners, sorted(existing | {c["slug"] for c in extra}), [t["slug"] for t in teams])
            summary.counts["jobs"] = insert_rows(connection, Job.__table__, jobs)
            summary.counts["executions"] = insert_rows(connection, JobExecution.__table__, seeder.executions(jobs))
            summary.counts["notifications"] = insert_rows(
                connection, Notification.__table__, seeder.notifications([u["id"] for u in users], jobs))
        if engine.dialect.name == "postgresql":
            # Fresh statistics, so the planner sees 100,000 rows and not an empty table.
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("ANALYZE"))
        else:
            with engine.connect() as connection:
                connection.execute(text("ANALYZE"))
    finally:
        engine.dispose()
    summary.seconds = time.monotonic() - started
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True,
                        help="sqlite:///path/bench.db or postgresql+psycopg://postgres@127.0.0.1:5432/bench "
                             "(recreated from nothing)")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiplies the jobs, executions and notifications counts (e.g. 0.1 for a quick run)")
    parser.add_argument("--seed", type=int, default=6, help="random seed (same seed, same rows)")
    args = parser.parse_args(argv)
    if args.scale <= 0:
        parser.error("--scale must be positive")
    print(seed(args.database_url, args.scale, args.seed).describe())
    return 0


if __name__ == "__main__":
    sys.exit(main())

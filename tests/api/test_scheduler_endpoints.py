"""GET /scheduler/status and POST /scheduler/resync on a process without a running scheduler (6.11)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from src.config import Settings
from src.core.scheduler_status import SchedulerProcessState, scheduler_status, upcoming_fires
from src.models import SchedulerLease, User, utcnow
from tests.api.conftest import ApiClient
from tests.conftest import Factory

ADMIN_ONLY = {
    "error": "Insufficient permissions",
    "message": "This endpoint requires one of the following roles: admin",
}
LOCAL_INSTANT = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+09:00"


def add_lease(db: Session, expires_at: datetime) -> None:
    db.add(SchedulerLease(name="scheduler", owner_id="owner-1", hostname="host-a", pid=4242,
                          acquired_at=utcnow(), expires_at=expires_at))
    db.commit()


def test_status_of_a_process_without_scheduler(api: ApiClient, admin: User, factory: Factory) -> None:
    response = api.get("/scheduler/status", token=factory.token(admin))
    assert response.status_code == 200
    assert response.json() == {
        "scheduler_running": False,
        "scheduler_is_leader": False,
        "scheduled_jobs_count": 0,
        "last_resync_at": None,
        "host": "none",
        "leader": None,
        "next_runs": [],
    }


def test_status_reports_the_live_lease_holder(api: ApiClient, admin: User, factory: Factory, db: Session) -> None:
    expires = utcnow().replace(microsecond=123000) + timedelta(seconds=30)
    add_lease(db, expires)
    leader = api.get("/scheduler/status", token=factory.token(admin)).json()["leader"]
    assert leader == {"owner_id": "owner-1", "hostname": "host-a", "pid": 4242,
                      "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%S.123Z")}


def test_expired_lease_means_no_leader(api: ApiClient, admin: User, factory: Factory, db: Session) -> None:
    add_lease(db, utcnow() - timedelta(seconds=1))
    assert api.get("/scheduler/status", token=factory.token(admin)).json()["leader"] is None


def test_next_runs_merge_active_jobs_in_time_order(api: ApiClient, admin: User, factory: Factory) -> None:
    every_minute = factory.job(admin, name="every-minute", cron_expression="* * * * *")
    factory.job(admin, name="yearly", cron_expression="0 0 1 1 *")
    factory.job(admin, name="paused", cron_expression="* * * * *", is_active=False)
    runs = api.get("/scheduler/status", token=factory.token(admin)).json()["next_runs"]
    assert len(runs) == 10
    assert {r["job_name"] for r in runs} == {"every-minute"}
    assert all(r["job_id"] == every_minute.id for r in runs)
    assert all(re.fullmatch(LOCAL_INSTANT, r["run_at"]) for r in runs)
    instants = [datetime.fromisoformat(r["run_at"]) for r in runs]
    assert instants == sorted(instants)
    assert all(b - a == timedelta(minutes=1) for a, b in zip(instants, instants[1:], strict=False))


def test_next_runs_interleave_several_jobs(api: ApiClient, admin: User, factory: Factory) -> None:
    factory.job(admin, name="a-every-2", cron_expression="*/2 * * * *")
    factory.job(admin, name="b-every-3", cron_expression="*/3 * * * *")
    runs = api.get("/scheduler/status", token=factory.token(admin)).json()["next_runs"]
    assert len(runs) == 10
    assert {r["job_name"] for r in runs} == {"a-every-2", "b-every-3"}
    keys = [(datetime.fromisoformat(r["run_at"]), r["job_name"]) for r in runs]
    assert keys == sorted(keys)


def test_next_runs_skip_unparseable_and_never_firing_crons(api: ApiClient, admin: User, factory: Factory) -> None:
    factory.job(admin, name="broken", cron_expression="not a cron")
    factory.job(admin, name="feb-31", cron_expression="0 0 31 2 *")
    assert api.get("/scheduler/status", token=factory.token(admin)).json()["next_runs"] == []


@pytest.mark.parametrize("role", ["user", "viewer"])
def test_status_by_non_admin_is_403(api: ApiClient, factory: Factory, role: str) -> None:
    response = api.get("/scheduler/status", token=factory.token(factory.user(role)))
    assert response.status_code == 403
    assert response.json() == ADMIN_ONLY


def test_status_requires_a_token(api: ApiClient) -> None:
    assert api.get("/scheduler/status").status_code == 401


def test_resync_on_a_process_without_scheduler_is_409(api: ApiClient, admin: User, factory: Factory) -> None:
    response = api.post("/scheduler/resync", token=factory.token(admin))
    assert response.status_code == 409
    assert response.json() == {"error": "Scheduler not leader",
                               "message": "Scheduler is not running as leader in this process."}


@pytest.mark.parametrize("role", ["user", "viewer"])
def test_resync_by_non_admin_is_403(api: ApiClient, factory: Factory, role: str) -> None:
    response = api.post("/scheduler/resync", token=factory.token(factory.user(role)))
    assert response.status_code == 403
    assert response.json() == ADMIN_ONLY


# --- the core computation, with a pinned clock ----------------------------------------------


NOW = datetime(2026, 3, 10, 0, 30, tzinfo=UTC)  # 09:30 JST


def test_fires_after_the_end_date_are_left_out(db: Session, settings: Settings, factory: Factory) -> None:
    owner = factory.user("admin")
    # Daily at 10:00 JST, ending on the second day: exactly two fires remain.
    factory.job(owner, name="ending", cron_expression="0 10 * * *", end_date=date(2026, 3, 11))
    runs = upcoming_fires(db, settings, now=NOW)
    assert [r.run_at for r in runs] == ["2026-03-10T10:00:00+09:00", "2026-03-11T10:00:00+09:00"]


def test_a_fire_exactly_now_counts(db: Session, settings: Settings, factory: Factory) -> None:
    owner = factory.user("admin")
    factory.job(owner, name="half-past", cron_expression="30 * * * *", end_date=None)
    runs = upcoming_fires(db, settings, limit=2, now=NOW)
    assert [r.run_at for r in runs] == ["2026-03-10T09:30:00+09:00", "2026-03-10T10:30:00+09:00"]


def test_process_state_is_reported_as_given(db: Session, settings: Settings) -> None:
    resynced = datetime(2026, 3, 10, 0, 0)
    status = scheduler_status(db, settings, SchedulerProcessState(running=True, is_leader=True,
                                                                  scheduled_jobs_count=7, last_resync_at=resynced))
    assert (status.scheduler_running, status.scheduler_is_leader, status.scheduled_jobs_count) == (True, True, 7)
    assert status.last_resync_at == resynced
    assert status.host == "none"

"""The scheduler hosted by each door: jobs created through /api and /api/v2 fire; health, status
and resync report the hosting process (contract 3.1, 6.11, 8.9)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from src.config import Settings
from src.models import JobExecution
from src.scheduler.host import SchedulerHost
from tests.conftest import Factory, legacy_door_param, make_settings
from tests.scheduler.conftest import TimedReceiver as Receiver
from tests.scheduler.conftest import fire_soon


@contextmanager
def flask_door(settings: Settings) -> Iterator[tuple[httpx.Client, SchedulerHost | None]]:
    from src.flask_app import create_app

    app = create_app(settings)
    try:
        with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://testserver") as client:
            yield client, app.extensions["runtime"].scheduler_host
    finally:
        app.extensions["runtime"].close()


@contextmanager
def fastapi_door(settings: Settings) -> Iterator[tuple[httpx.Client, SchedulerHost | None]]:
    from fastapi.testclient import TestClient

    from src.fastapi_app.main import create_app

    app = create_app(settings)
    with TestClient(app, base_url="http://testserver") as client:
        yield client, app.state.scheduler_host


DOORS: dict[str, tuple[str, Callable[[Settings], Any]]] = {
    "/api": ("flask", flask_door), "/api/v2": ("fastapi", fastapi_door),
}


@pytest.fixture(params=[legacy_door_param("/api"), "/api/v2"])
def door(request: pytest.FixtureRequest, settings: Settings) -> Iterator[tuple[str, httpx.Client, SchedulerHost]]:
    prefix = request.param
    kind, open_door = DOORS[prefix]
    hosted = make_settings(settings.DATABASE_URL, SCHEDULER_HOST=kind, SCHEDULER_LEASE_SECONDS=3,
                           SCHEDULER_SYNC_SECONDS=0.2)
    with open_door(hosted) as (client, host):
        assert host is not None
        deadline = time.monotonic() + 10
        while not host.is_leader:
            assert time.monotonic() < deadline, "the door's scheduler never became leader"
            time.sleep(0.05)
        yield prefix, client, host


def _auth(factory: Factory, role: str = "admin") -> dict[str, str]:
    return {"Authorization": f"Bearer {factory.token(factory.user(role))}"}


def _wait(condition: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"condition not met within {timeout} s"
        time.sleep(0.05)
    return value


def test_job_created_through_the_door_fires_as_scheduled_with_its_fire_time(
    door: tuple[str, httpx.Client, SchedulerHost], factory: Factory, db: Session, receiver: Receiver
) -> None:
    prefix, client, host = door
    factory.team("Team A", slug="team-a")
    created = client.post(f"{prefix}/jobs", headers=_auth(factory, "user"), json={
        "name": "door-job", "cron_expression": "* * * * *", "target_url": f"{receiver.url}/hook/door",
        "end_date": (date.today() + timedelta(days=30)).isoformat(), "pic_team": "team-a",
    })
    assert created.status_code == 201, created.text
    job_id = created.json()["job"]["id"]
    _wait(lambda: job_id in host.runtime.scheduled_ids())  # picked up by the incremental sync
    at = fire_soon(host.runtime, job_id)
    _wait(lambda: receiver.to("/hook/door"))

    def finished() -> list[JobExecution]:
        db.expire_all()
        return [e for e in db.scalars(select(JobExecution)) if e.status != "running"]

    [execution] = _wait(finished)
    assert (execution.job_id, execution.trigger_type, execution.status) == (job_id, "scheduled", "success")
    assert execution.scheduled_for == at.replace(tzinfo=None)


def _scheduled_door_job(door: tuple[str, httpx.Client, SchedulerHost], factory: Factory,
                        headers: dict[str, str], target: str) -> str:
    prefix, client, host = door
    factory.team("Team A", slug="team-a")
    created = client.post(f"{prefix}/jobs", headers=headers, json={
        "name": "door-edit-job", "cron_expression": "0 9 * * *", "target_url": target,
        "end_date": (date.today() + timedelta(days=30)).isoformat(), "pic_team": "team-a",
    })
    assert created.status_code == 201, created.text
    job_id: str = created.json()["job"]["id"]
    _wait(lambda: job_id in host.runtime.scheduled_ids())
    return job_id


def test_job_paused_through_the_door_is_unscheduled_and_never_dispatched(
    door: tuple[str, httpx.Client, SchedulerHost], factory: Factory, receiver: Receiver
) -> None:
    prefix, client, host = door
    headers = _auth(factory, "user")
    job_id = _scheduled_door_job(door, factory, headers, f"{receiver.url}/hook/paused")
    fire_soon(host.runtime, job_id, delay=3.0)
    assert client.put(f"{prefix}/jobs/{job_id}", headers=headers, json={"is_active": False}).status_code == 200
    _wait(lambda: job_id not in host.runtime.scheduled_ids())
    time.sleep(3.5)  # past the fire that was due
    assert receiver.to("/hook/paused") == []


def test_cron_changed_through_the_door_gives_the_new_next_run(
    door: tuple[str, httpx.Client, SchedulerHost], factory: Factory, receiver: Receiver
) -> None:
    prefix, client, host = door
    headers = _auth(factory, "user")
    job_id = _scheduled_door_job(door, factory, headers, f"{receiver.url}/hook/cron")
    before = host.runtime.scheduler.get_job(job_id).next_run_time
    changed = client.put(f"{prefix}/jobs/{job_id}", headers=headers, json={"cron_expression": "30 21 * * *"})
    assert changed.status_code == 200
    expected = changed.json()["job"]["next_execution_at"]
    _wait(lambda: (job := host.runtime.scheduler.get_job(job_id)) is not None and job.next_run_time != before)
    assert host.runtime.scheduler.get_job(job_id).next_run_time.isoformat() == expected


def test_job_deleted_through_the_door_is_removed_from_the_scheduler(
    door: tuple[str, httpx.Client, SchedulerHost], factory: Factory, receiver: Receiver
) -> None:
    prefix, client, host = door
    headers = _auth(factory, "user")
    job_id = _scheduled_door_job(door, factory, headers, f"{receiver.url}/hook/deleted")
    assert client.delete(f"{prefix}/jobs/{job_id}", headers=headers).status_code == 200
    _wait(lambda: job_id not in host.runtime.scheduled_ids())


def test_health_reports_the_running_scheduler_without_the_maintenance_job(
    door: tuple[str, httpx.Client, SchedulerHost], factory: Factory
) -> None:
    prefix, client, host = door
    factory.job(None)
    _wait(lambda: host.runtime.scheduled_jobs_count() == 1)
    body = client.get(f"{prefix}/health").json()
    assert (body["scheduler_running"], body["scheduled_jobs_count"]) == (True, 1)


def test_status_describes_this_process_and_the_lease(
    door: tuple[str, httpx.Client, SchedulerHost], factory: Factory
) -> None:
    prefix, client, host = door
    body = client.get(f"{prefix}/scheduler/status", headers=_auth(factory)).json()
    assert (body["scheduler_running"], body["scheduler_is_leader"]) == (True, True)
    assert body["host"] == host.kind
    assert body["leader"]["owner_id"] == host.lease.owner_id
    assert body["last_resync_at"] is not None


def test_resync_runs_a_full_reconciliation_in_the_leader(
    door: tuple[str, httpx.Client, SchedulerHost], factory: Factory
) -> None:
    prefix, client, _host = door
    factory.job(None)
    factory.job(None, cron_expression="99 * * * *")  # stored bypassing validation: skipped and counted
    response = client.post(f"{prefix}/scheduler/resync", headers=_auth(factory))
    body = response.json()
    assert response.status_code == 200
    assert body["message"] == "Scheduler resync completed"
    assert (body["db_jobs_total"], body["db_jobs_active"], body["scheduled_now"], body["invalid_cron"]) == (2, 2, 1, 1)

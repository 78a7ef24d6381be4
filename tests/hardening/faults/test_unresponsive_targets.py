"""A target that resets the connection or never answers: a `failed` run within the outbound timeout,
for webhook and GitHub targets, through the scheduler's executor and through both doors' execute
and test-run endpoints. Nothing hangs: the silent server never replies, so only the timeout ends
those calls.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session

from src.config import Settings
from src.models import Job, JobExecution, User
from src.scheduler.executor import execute_job
from src.scheduler.services import close_execution_services, open_execution_services
from tests.api.conftest import ApiClient
from tests.conftest import Factory
from tests.receivers import FaultyServer

OUTBOUND_TIMEOUT_SECONDS = 0.5
GITHUB_FIELDS = {"github_owner": "acme", "github_repo": "api", "github_workflow_name": "ci.yml"}
PREFIX = {"webhook": "Webhook call failed: ", "github": "GitHub Actions request failed: "}
TIMED_OUT = "Request timed out (ReadTimeout)"


@pytest.fixture(params=["reset", "silent"])
def faulty(request: pytest.FixtureRequest) -> Iterator[FaultyServer]:
    server = FaultyServer(request.param).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def settings_overrides(faulty: FaultyServer) -> dict[str, Any]:
    return {"GITHUB_API_BASE_URL": faulty.url(""), "GITHUB_TOKEN": "server-token",
            "OUTBOUND_TIMEOUT_SECONDS": OUTBOUND_TIMEOUT_SECONDS}


@pytest.fixture
def owner(factory: Factory) -> User:
    return factory.user("user")


def _job(factory: Factory, owner: User, kind: str, faulty: FaultyServer) -> Job:
    if kind == "webhook":
        return factory.job(owner, target_url=faulty.url("/hook"), job_metadata='{"suite": "smoke"}')
    return factory.job(owner, target_url=None, **GITHUB_FIELDS)


def _execution(db: Session, execution_id: str | None) -> JobExecution:
    assert execution_id is not None
    db.expire_all()
    execution = db.get(JobExecution, execution_id)
    assert execution is not None
    return execution


def _assert_failed_by(execution: JobExecution, kind: str, faulty: FaultyServer) -> None:
    assert (execution.status, execution.response_status) == ("failed", None)
    assert execution.completed_at is not None
    message = execution.error_message or ""
    assert message.startswith(PREFIX[kind]), message
    if faulty.mode == "silent":
        assert message == PREFIX[kind] + TIMED_OUT
    else:
        # A reset fails at once: it is reported as what it is, not as a timeout.
        assert "timed out" not in message and len(message) > len(PREFIX[kind])
    assert faulty.accepted >= 1  # the target was really reached


@pytest.mark.parametrize("kind", ["webhook", "github"])
def test_scheduled_run_against_a_faulty_target_is_recorded_failed(
    settings: Settings, db: Session, factory: Factory, owner: User, faulty: FaultyServer, kind: str
) -> None:
    job = _job(factory, owner, kind, faulty)

    async def fire() -> str | None:
        services = await open_execution_services(settings)
        try:
            return await execute_job(services, job.id, "scheduled", scheduled_for=datetime(2030, 1, 1, 2, 0))
        finally:
            await close_execution_services(services)

    _assert_failed_by(_execution(db, asyncio.run(fire())), kind, faulty)


@pytest.mark.parametrize("kind", ["webhook", "github"])
def test_execute_now_against_a_faulty_target_answers_200_and_records_a_failed_run(
    api: ApiClient, db: Session, factory: Factory, owner: User, faulty: FaultyServer, kind: str
) -> None:
    job = _job(factory, owner, kind, faulty)
    response = api.post(f"/jobs/{job.id}/execute", token=factory.token(owner))
    assert response.status_code == 200, response.text
    _assert_failed_by(_execution(db, response.json()["execution_id"]), kind, faulty)


@pytest.mark.parametrize("kind", ["webhook", "github"])
def test_test_run_against_a_faulty_target_reports_the_failure_in_a_200(
    api: ApiClient, factory: Factory, owner: User, faulty: FaultyServer, kind: str
) -> None:
    target = {"target_url": faulty.url("/hook")} if kind == "webhook" else GITHUB_FIELDS
    # The test run's own timeout (its minimum, 1 s), not the outbound setting, bounds the wait.
    response = api.post("/jobs/test-run", token=factory.token(owner), json={**target, "timeout_seconds": 1})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["ok"], body["type"], body["error"]) == (False, kind, "Request failed")
    assert body["message"]
    assert faulty.accepted >= 1

"""The executor (contract 8.1, 8.2, 8.4, 8.7) called directly, as the scheduler will call it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from src.config import Settings
from src.core.execution_plans import ExecutionPlan, plan_for_job
from src.models import Job, JobExecution, Notification, SlackSettings, User
from src.scheduler.executor import execute_job
from src.scheduler.services import ExecutionServices, close_execution_services, open_execution_services
from tests.conftest import Factory
from tests.receivers import Receiver, closed_port_url, receiver  # noqa: F401  # pytest fixtures, imported so tests can request them

T = TypeVar("T")
FIRE = datetime(2030, 1, 1, 2, 0, 0)


@pytest.fixture
def settings_overrides(receiver: Receiver) -> dict[str, Any]:  # noqa: F811  # the imported pytest fixture, injected by name
    return {"GITHUB_API_BASE_URL": receiver.url, "GITHUB_TOKEN": "", "FRONTEND_BASE_URL": "http://spa.example"}


@pytest.fixture
def owner(factory: Factory) -> User:
    return factory.user("user")


def _with_services(settings: Settings, work: Callable[[ExecutionServices], Awaitable[T]]) -> T:
    async def main() -> T:
        services = await open_execution_services(settings)
        try:
            return await work(services)
        finally:
            await close_execution_services(services)

    return asyncio.run(main())


def _run(settings: Settings, job: Job, trigger: str = "scheduled", **kwargs: Any) -> str | None:
    return _with_services(settings, lambda s: execute_job(s, job.id, trigger, **kwargs))  # type: ignore[arg-type]  # the trigger strings are the literals execute_job takes


def _executions(db: Session) -> list[JobExecution]:
    db.expire_all()
    return list(db.scalars(select(JobExecution)))


def test_scheduled_run_of_a_missing_job_does_nothing(settings: Settings, db: Session) -> None:
    result = _with_services(settings, lambda s: execute_job(s, "no-such-job", "scheduled"))
    assert result is None
    assert _executions(db) == []


def test_scheduled_run_of_an_inactive_job_does_nothing(
    settings: Settings, db: Session, factory: Factory, owner: User, receiver: Receiver  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    job = factory.job(owner, target_url=f"{receiver.url}/hook", is_active=False)
    assert _run(settings, job) is None
    assert _executions(db) == []
    assert receiver.requests == []


def test_scheduled_run_of_an_expired_job_auto_pauses_it_without_a_row(
    settings: Settings, db: Session, factory: Factory, owner: User, receiver: Receiver  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    admin = factory.user("admin")
    db.add(SlackSettings(is_enabled=True, webhook_url=f"{receiver.url}/slack"))
    db.commit()
    job = factory.job(owner, target_url=f"{receiver.url}/hook", end_date=date.today() - timedelta(days=2))
    assert _run(settings, job, scheduled_for=FIRE) is None
    assert _executions(db) == []
    assert db.get(Job, job.id).is_active is False  # type: ignore[union-attr]  # None here fails the test, as it should
    notified = {n.user_id for n in db.scalars(select(Notification))}
    assert notified == {owner.id, admin.id}
    assert receiver.to("/hook") == []
    [alert] = receiver.to("/slack")
    assert "Job auto-paused (end date passed)" in alert.json()["text"]


def test_scheduled_run_records_trigger_and_fire_time(
    settings: Settings, db: Session, factory: Factory, owner: User, receiver: Receiver  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    job = factory.job(owner, target_url=f"{receiver.url}/hook")
    execution_id = _run(settings, job, scheduled_for=FIRE)
    [execution] = _executions(db)
    assert execution.id == execution_id
    assert (execution.trigger_type, execution.scheduled_for, execution.status) == ("scheduled", FIRE, "success")


def test_a_fire_already_taken_is_not_dispatched_again(
    settings: Settings, db: Session, factory: Factory, owner: User, receiver: Receiver  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    job = factory.job(owner, target_url=f"{receiver.url}/hook")
    first = _run(settings, job, scheduled_for=FIRE)
    second = _run(settings, job, scheduled_for=FIRE)
    assert first is not None and second is None
    assert len(_executions(db)) == 1
    assert len(receiver.to("/hook")) == 1


def test_github_run_without_a_token_fails_without_calling_out(
    settings: Settings, db: Session, factory: Factory, owner: User, receiver: Receiver  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    job = factory.job(
        owner, target_url=None, github_owner="acme", github_repo="api", github_workflow_name="ci.yml"
    )
    _run(settings, job)
    [execution] = _executions(db)
    assert execution.status == "failed"
    assert execution.error_message == f"GitHub token not configured. Cannot trigger workflow for job '{job.name}'"
    assert (execution.execution_type, execution.target) == ("github_actions", "acme/api/ci.yml")
    assert receiver.requests == []


def test_github_network_error_is_recorded(
    settings: Settings, db: Session, factory: Factory, owner: User
) -> None:
    job = factory.job(
        owner, target_url=None, github_owner="acme", github_repo="api", github_workflow_name="ci.yml"
    )
    closed = closed_port_url("")
    closed_settings = settings.model_copy(update={"GITHUB_API_BASE_URL": closed, "GITHUB_TOKEN": "t"})
    plan: ExecutionPlan = plan_for_job(job)
    _with_services(closed_settings, lambda s: execute_job(s, job.id, "manual", plan=plan))
    [execution] = _executions(db)
    assert execution.status == "failed" and execution.response_status is None
    assert (execution.error_message or "").startswith("GitHub Actions request failed: ")


def test_job_without_a_valid_target_records_a_failed_run(
    settings: Settings, db: Session, factory: Factory, owner: User
) -> None:
    job = factory.job(owner, target_url="not a url")
    _run(settings, job)
    [execution] = _executions(db)
    assert execution.status == "failed"
    assert execution.error_message == f"Job '{job.name}' has no valid target (neither GitHub Actions nor webhook URL)"
    assert execution.execution_type is None


def test_unexpected_error_records_a_failed_run_and_does_not_raise(
    settings: Settings, db: Session, factory: Factory, owner: User, receiver: Receiver  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    # NaN is not valid JSON: encoding the webhook body fails inside the dispatch.
    job = factory.job(owner, target_url=f"{receiver.url}/hook", job_metadata='{"x": NaN}')
    execution_id = _run(settings, job)
    [execution] = _executions(db)
    assert execution.id == execution_id
    assert execution.status == "failed"
    assert (execution.error_message or "").startswith(f"Unexpected error executing job '{job.name}': ")
    titles = {n.title for n in db.scalars(select(Notification))}
    assert titles == {"Job Failed"}


def test_scheduled_failure_slack_text_names_the_trigger(
    settings: Settings, db: Session, factory: Factory, owner: User, receiver: Receiver  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    db.add(SlackSettings(is_enabled=True, webhook_url=f"{receiver.url}/slack", channel="#ops"))
    db.commit()
    receiver.respond("/hook", 500, "x")
    job = factory.job(owner, target_url=f"{receiver.url}/hook", pic_team="no-such-team")
    _run(settings, job)
    [post] = receiver.to("/slack")
    assert post.json() == {
        "text": f":x: Job failed: <http://spa.example/jobs/{job.id}/edit|{job.name}> (scheduled): "
        "Webhook returned status 500",
        "channel": "#ops",
    }


def test_recovery_compares_with_the_latest_finished_run(
    settings: Settings, db: Session, factory: Factory, owner: User, receiver: Receiver  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    db.add(SlackSettings(is_enabled=True, webhook_url=f"{receiver.url}/slack"))
    db.commit()
    job = factory.job(owner, target_url=f"{receiver.url}/hook", pic_team=None)
    now = datetime.utcnow()
    factory.execution(job, status="success", started_at=now - timedelta(hours=3))
    factory.execution(job, status="failed", started_at=now - timedelta(hours=2))
    factory.execution(job, status="running", started_at=now - timedelta(hours=1))
    _run(settings, job)
    [post] = receiver.to("/slack")
    assert post.json()["text"] == f":white_check_mark: Job recovered: <http://spa.example/jobs/{job.id}/edit|{job.name}>"


def test_slack_delivery_problems_do_not_change_the_run(
    settings: Settings, db: Session, factory: Factory, owner: User, receiver: Receiver  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    db.add(SlackSettings(is_enabled=True, webhook_url=closed_port_url("/slack")))
    db.commit()
    receiver.respond("/hook", 500, "x")
    job = factory.job(owner, target_url=f"{receiver.url}/hook")
    assert _run(settings, job) is not None
    [execution] = _executions(db)
    assert (execution.status, execution.error_message) == ("failed", "Webhook returned status 500")


def test_loopback_targets_are_refused_when_private_targets_are_off(
    settings: Settings, db: Session, factory: Factory, owner: User, receiver: Receiver  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    db.add(SlackSettings(is_enabled=True, webhook_url=f"{receiver.url}/slack"))
    db.commit()
    job = factory.job(owner, target_url=f"{receiver.url}/hook")
    strict = settings.model_copy(update={"ALLOW_PRIVATE_TARGETS": False})
    _with_services(strict, lambda s: execute_job(s, job.id, "scheduled"))
    [execution] = _executions(db)
    assert execution.status == "failed"
    assert "Blocked outbound address 127.0.0.1" in (execution.error_message or "")
    assert receiver.requests == []  # neither the webhook nor the (plain http) Slack URL


def test_metadata_is_posted_as_stored(
    settings: Settings, db: Session, factory: Factory, owner: User, receiver: Receiver  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    job = factory.job(owner, target_url=f"{receiver.url}/hook", job_metadata=json.dumps({"k": [1, 2]}))
    _run(settings, job)
    assert receiver.to("/hook")[0].json() == {"k": [1, 2]}


def test_a_webhook_that_answers_too_late_fails_saying_it_timed_out(
    settings: Settings, db: Session, factory: Factory, owner: User, receiver: Receiver  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    receiver.respond("/hook", 200, "late", delay=1.0)
    job = factory.job(owner, target_url=f"{receiver.url}/hook")
    _with_services(
        settings.model_copy(update={"OUTBOUND_TIMEOUT_SECONDS": 0.2}), lambda s: execute_job(s, job.id, "scheduled")
    )
    [execution] = _executions(db)
    assert execution.status == "failed"
    assert execution.error_message == "Webhook call failed: Request timed out (ReadTimeout)"

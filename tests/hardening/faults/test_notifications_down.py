"""Slack or the SMTP server down (not listening, refusing, answering 500): the run is still recorded
with its status, the undelivered notification is logged at WARNING naming its channel and job
(never the webhook URL's secret path or the SMTP password) and counted in the process's
`notification_delivery_failures_total{channel}`, and nothing crashes. For runs started through
either door's execute endpoint and for runs fired by the scheduler either door hosts.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from src.config import Settings
from src.models import Job, JobExecution, SlackSettings, User
from tests.api.conftest import ApiClient
from tests.conftest import Factory, legacy_door_param
from tests.observability.exposition import Scrape
from tests.receivers import Receiver, SmtpSink, closed_port_url
from tests.scheduler.conftest import fire_soon
from tests.scheduler.test_doors import DOORS as SCHEDULER_DOORS

SLACK_SECRET = "T000/B000/slack-secret-token"
SLACK_PATH = f"/services/{SLACK_SECRET}"
SMTP_PASSWORD = "smtp-password-secret"
DELIVERY_LOGGER = "src.integrations.delivery"


@dataclass(frozen=True)
class Outage:
    """Which channel is down and how; the other channel stays healthy."""

    channel: str
    how: str


OUTAGES = [Outage("slack", "not listening"), Outage("slack", "answers 500"),
           Outage("email", "not listening"), Outage("email", "refuses the message")]


@pytest.fixture(params=OUTAGES, ids=lambda o: f"{o.channel} {o.how}")
def outage(request: pytest.FixtureRequest) -> Outage:
    return request.param  # type: ignore[no-any-return]  # pytest params are untyped


@pytest.fixture
def hook(outage: Outage) -> Iterator[Receiver]:
    """The job's target (answers 500, so a failure alert and a failure email are due) and Slack."""
    server = Receiver().start()
    server.respond("/hook", 500, "boom")
    if outage == Outage("slack", "answers 500"):
        server.respond(SLACK_PATH, 500, "slack is down")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def mail_server(outage: Outage) -> Iterator[SmtpSink]:
    refusing = outage == Outage("email", "refuses the message")
    sink = SmtpSink(data_reply="554 5.7.1 Message refused" if refusing else "250 Message accepted").start()
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture
def settings_overrides(outage: Outage, mail_server: SmtpSink) -> dict[str, Any]:
    mail: dict[str, Any] = {"MAIL_USERNAME": "mailer", "MAIL_USE_TLS": False, "MAIL_SERVER": "127.0.0.1",
                            "MAIL_PORT": mail_server.port, "MAIL_PASSWORD": ""}
    if outage == Outage("email", "not listening"):
        # With a password the mailer would log in: it must never appear in a log.
        mail.update(MAIL_PORT=int(closed_port_url("").rsplit(":", 1)[1]), MAIL_PASSWORD=SMTP_PASSWORD)
    return mail


def _slack_url(outage: Outage, hook: Receiver) -> str:
    if outage == Outage("slack", "not listening"):
        return closed_port_url(SLACK_PATH)
    return f"{hook.url}{SLACK_PATH}"


def _failing_job(db: Session, factory: Factory, owner: User | None, outage: Outage, hook: Receiver,
                 **fields: Any) -> Job:
    """A job whose run fails, with Slack alerts on and a failure email due."""
    db.add(SlackSettings(is_enabled=True, webhook_url=_slack_url(outage, hook), channel="#ops"))
    db.commit()
    return factory.job(owner, target_url=f"{hook.url}/hook", enable_email_notifications=True,
                       notification_emails="ops@example.com", **fields)


def _wait(condition: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"condition not met within {timeout} s"
        time.sleep(0.05)
    return value


def _assert_the_other_channel_delivered(outage: Outage, hook: Receiver, mail_server: SmtpSink) -> None:
    if outage.channel == "slack":
        _wait(lambda: mail_server.mails)
    else:
        _wait(lambda: hook.to(SLACK_PATH))


def _not_delivered_records(caplog: pytest.LogCaptureFixture, outage: Outage, job: Job) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == DELIVERY_LOGGER and r.levelno >= logging.WARNING
            and outage.channel in r.getMessage() and job.name in r.getMessage()]


def _assert_logged_without_secrets(caplog: pytest.LogCaptureFixture, outage: Outage, job: Job) -> None:
    [record] = _wait(lambda: _not_delivered_records(caplog, outage, job))
    assert record.levelno == logging.WARNING
    logged = "\n".join(r.getMessage() + (caplog.handler.format(r) if r.exc_info else "") for r in caplog.records)
    assert SLACK_SECRET not in logged and SMTP_PASSWORD not in logged


def _assert_counted(metrics: httpx.Client, outage: Outage) -> None:
    """One failure of the channel that is down on the process's /metrics, none of the other."""
    def failures(channel: str) -> float | None:
        return Scrape(metrics.get("/metrics").text).value("notification_delivery_failures_total", channel=channel)

    _wait(lambda: failures(outage.channel) == 1)
    assert failures("email" if outage.channel == "slack" else "slack") == 0


def _finished_runs(db: Session, job: Job) -> list[JobExecution]:
    db.expire_all()
    return [e for e in db.scalars(select(JobExecution).where(JobExecution.job_id == job.id)) if e.status != "running"]


# --- runs started through the API ------------------------------------------------------------


def test_execute_now_records_the_run_and_logs_the_undelivered_notification(
    api: ApiClient, db: Session, factory: Factory, outage: Outage, hook: Receiver, mail_server: SmtpSink,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger=DELIVERY_LOGGER)
    owner = factory.user("user")
    job = _failing_job(db, factory, owner, outage, hook)
    response = api.post(f"/jobs/{job.id}/execute", token=factory.token(owner))
    assert response.status_code == 200, response.text
    [execution] = _finished_runs(db, job)
    assert (execution.id, execution.status) == (response.json()["execution_id"], "failed")
    assert execution.error_message == "Webhook returned status 500"
    _assert_logged_without_secrets(caplog, outage, job)
    _assert_counted(api.http, outage)
    _assert_the_other_channel_delivered(outage, hook, mail_server)
    assert api.get("/health").status_code == 200  # the door is still serving


# --- runs fired by the scheduler a door hosts ------------------------------------------------


@pytest.mark.parametrize("prefix", [legacy_door_param("/api"), "/api/v2"])
def test_scheduled_run_records_the_run_and_logs_the_undelivered_notification(
    settings: Settings, db: Session, factory: Factory, outage: Outage, hook: Receiver, mail_server: SmtpSink,
    caplog: pytest.LogCaptureFixture, prefix: str,
) -> None:
    caplog.set_level(logging.WARNING, logger=DELIVERY_LOGGER)
    kind, open_door = SCHEDULER_DOORS[prefix]
    hosted = settings.model_copy(update={"SCHEDULER_HOST": kind, "SCHEDULER_LEASE_SECONDS": 3,
                                         "SCHEDULER_SYNC_SECONDS": 0.2})
    job = _failing_job(db, factory, None, outage, hook, cron_expression="0 3 * * *")
    with open_door(hosted) as (client, host):
        _wait(lambda: host.is_leader and job.id in host.runtime.scheduled_ids())
        fire_soon(host.runtime, job.id)
        [execution] = _wait(lambda: _finished_runs(db, job))
        assert (execution.trigger_type, execution.status) == ("scheduled", "failed")
        _assert_logged_without_secrets(caplog, outage, job)
        _assert_counted(client, outage)
        _assert_the_other_channel_delivered(outage, hook, mail_server)
        # Nothing crashed: the host's loops are alive and it leads (a slow machine may have made it
        # restart its schedule on a late lease renewal meanwhile, hence the wait).
        assert all(not task.done() for task in host._tasks)
        _wait(lambda: host.is_leader)
        assert client.get(f"{prefix}/health").status_code == 200

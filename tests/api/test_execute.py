"""POST /jobs/{id}/execute (contract 4.6, 8.1, 8.2, 8.4–8.7) against real loopback receivers."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from src.models import Job, JobExecution, Notification, SlackSettings, User, UserNotificationPreferences
from tests.api.conftest import ApiClient
from tests.conftest import Factory
from tests.receivers import Receiver, Reply, SmtpSink, closed_port_url, receiver, smtp  # noqa: F401  # pytest fixtures, imported so tests can request them

SERVER_TOKEN = "server-token-123"
WORKFLOWS = "/repos/acme/api/actions/workflows"


@pytest.fixture
def settings_overrides(receiver: Receiver, smtp: SmtpSink) -> dict[str, Any]:  # noqa: F811  # the imported pytest fixture, injected by name
    return {
        "GITHUB_API_BASE_URL": receiver.url,
        "GITHUB_TOKEN": SERVER_TOKEN,
        "MAIL_USERNAME": "mailer",
        "MAIL_PASSWORD": "",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp.port,
        "MAIL_USE_TLS": False,
        "FRONTEND_BASE_URL": "http://spa.example/",
    }


def _webhook_job(factory: Factory, owner: User, receiver: Receiver, **fields: Any) -> Job:  # noqa: F811  # the imported pytest fixture, injected by name
    values: dict[str, Any] = {"target_url": f"{receiver.url}/hook", "job_metadata": json.dumps({"suite": "smoke"})}
    values.update(fields)
    return factory.job(owner, **values)


def _github_job(factory: Factory, owner: User, **fields: Any) -> Job:
    values: dict[str, Any] = {
        "target_url": None,
        "github_owner": "acme",
        "github_repo": "api",
        "github_workflow_name": "deploy.yml",
        "job_metadata": json.dumps({"branchDetails": "release", "suite": "smoke"}),
    }
    values.update(fields)
    return factory.job(owner, **values)


def _execution(db: Session, execution_id: str) -> JobExecution:
    db.expire_all()
    execution = db.get(JobExecution, execution_id)
    assert execution is not None
    return execution


def _enable_slack(db: Session, receiver: Receiver, channel: str | None = "#alerts") -> None:  # noqa: F811  # the imported pytest fixture, injected by name
    db.add(SlackSettings(is_enabled=True, webhook_url=f"{receiver.url}/slack", channel=channel))
    db.commit()


def _run(api: ApiClient, token: str, job: Job, **kwargs: Any) -> str:
    response = api.post(f"/jobs/{job.id}/execute", token=token, **kwargs)
    assert response.status_code == 200, response.text
    return str(response.json()["execution_id"])


# --- checks of 4.6, in order ---------------------------------------------------------------


def test_viewer_is_refused_by_role_gate_even_for_a_missing_job(api: ApiClient, factory: Factory, viewer: User) -> None:
    response = api.post("/jobs/nonexistent/execute", token=factory.token(viewer))
    assert response.status_code == 403
    assert response.json() == {
        "error": "Insufficient permissions",
        "message": "This endpoint requires one of the following roles: admin, user",
    }


def test_missing_job_is_404(api: ApiClient, factory: Factory, user: User) -> None:
    response = api.post("/jobs/nonexistent/execute", token=factory.token(user))
    assert response.status_code == 404
    assert response.json() == {"error": "Job not found", "message": "No job found with ID: nonexistent"}


def test_user_cannot_execute_another_users_job(api: ApiClient, factory: Factory, user: User, admin: User) -> None:
    job = factory.job(admin)
    response = api.post(f"/jobs/{job.id}/execute", token=factory.token(user))
    assert response.status_code == 403
    assert response.json() == {"error": "Insufficient permissions", "message": "You can only execute your own jobs"}


def test_expired_active_job_is_auto_paused_notified_and_refused(
    api: ApiClient, factory: Factory, db: Session, user: User, admin: User, receiver: Receiver  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    job = _webhook_job(factory, user, receiver, end_date=date.today() - timedelta(days=3), pic_team="team-a")
    response = api.post(f"/jobs/{job.id}/execute", token=factory.token(user))
    assert response.status_code == 400
    assert response.json() == {
        "error": "Job expired",
        "message": "This job has passed its end_date and was auto-paused.",
    }
    db.expire_all()
    assert db.get(Job, job.id).is_active is False  # type: ignore[union-attr]  # None here fails the test, as it should
    rows = db.scalars(select(Notification).where(Notification.related_job_id == job.id)).all()
    assert sorted(r.user_id for r in rows) == sorted([user.id, admin.id])
    assert {r.title for r in rows} == {"Job auto-paused (end date passed)"}
    assert rows[0].type == "warning"
    assert rows[0].message == (
        f'Job "{job.name}" passed its end_date ({job.end_date.isoformat()} JST) and was auto-paused. PIC Team: team-a'  # type: ignore[union-attr]  # None here fails the test, as it should
    )
    assert db.scalars(select(JobExecution)).all() == []
    assert receiver.to("/hook") == []


def test_expired_job_auto_pause_posts_the_slack_alert(
    api: ApiClient, factory: Factory, db: Session, user: User, team: Any, receiver: Receiver  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    _enable_slack(db, receiver)
    job = _webhook_job(factory, user, receiver, end_date=date.today() - timedelta(days=3))
    api.post(f"/jobs/{job.id}/execute", token=factory.token(user))
    _wait_for(lambda: receiver.to("/slack"))
    payload = receiver.to("/slack")[0].json()
    assert payload == {
        "text": f":warning: @team-a Job auto-paused (end date passed): <http://spa.example/jobs/{job.id}/edit|{job.name}>"
        f" (end_date {job.end_date.isoformat()} JST)",  # type: ignore[union-attr]  # None here fails the test, as it should
        "channel": "#alerts",
    }


def test_expired_inactive_job_is_refused_without_new_notifications(
    api: ApiClient, factory: Factory, db: Session, user: User
) -> None:
    job = factory.job(user, end_date=date.today() - timedelta(days=3), is_active=False)
    response = api.post(f"/jobs/{job.id}/execute", token=factory.token(user))
    assert response.status_code == 400
    assert response.json()["error"] == "Job expired"
    assert db.scalars(select(Notification)).all() == []


def test_inactive_job_is_refused(api: ApiClient, factory: Factory, user: User) -> None:
    job = factory.job(user, is_active=False)
    response = api.post(f"/jobs/{job.id}/execute", token=factory.token(user))
    assert response.status_code == 400
    assert response.json() == {
        "error": "Job inactive",
        "message": "Job is disabled. Enable it before running it manually.",
    }


def test_non_json_body_is_refused(api: ApiClient, factory: Factory, user: User) -> None:
    job = factory.job(user)
    response = api.post(
        f"/jobs/{job.id}/execute", token=factory.token(user), content=b"x=1", headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 400
    assert response.json() == {"error": "Content-Type must be application/json"}


def test_metadata_that_is_not_an_object_is_refused(api: ApiClient, factory: Factory, user: User) -> None:
    job = factory.job(user)
    response = api.post(f"/jobs/{job.id}/execute", token=factory.token(user), json={"metadata": [1, 2]})
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid payload", "message": '"metadata" must be a JSON object.'}


def test_an_override_of_the_other_kind_is_still_type_checked(api: ApiClient, factory: Factory, user: User) -> None:
    job = _github_job(factory, user)
    response = api.post(f"/jobs/{job.id}/execute", token=factory.token(user), json={"target_url": {}})
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid payload", "message": '"target_url" must be a string.'}


def test_unparseable_dispatch_url_is_refused_for_github_jobs(api: ApiClient, factory: Factory, user: User) -> None:
    job = _github_job(factory, user)
    response = api.post(f"/jobs/{job.id}/execute", token=factory.token(user), json={"dispatch_url": "not-a-url"})
    assert response.status_code == 400
    assert response.json() == {
        "error": "Invalid payload",
        "message": "Invalid dispatch URL format. Expected one of: <owner>/<repo>/<workflow>, "
        "/<owner>/<repo>/actions/workflows/<workflow>, or "
        "https://github.com/<owner>/<repo>/actions/workflows/<workflow>.",
    }


def test_job_without_a_usable_target_is_refused(api: ApiClient, factory: Factory, db: Session, user: User) -> None:
    job = factory.job(user, target_url=None)
    response = api.post(f"/jobs/{job.id}/execute", token=factory.token(user), json={"target_url": "  "})
    assert response.status_code == 400
    assert response.json() == {
        "error": "Missing target configuration",
        "message": "Job has no valid target configuration to execute.",
    }
    assert db.scalars(select(JobExecution)).all() == []


# --- webhook runs --------------------------------------------------------------------------


def test_webhook_run_posts_metadata_and_records_success(
    api: ApiClient, factory: Factory, db: Session, user: User, receiver: Receiver  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    receiver.respond("/hook", 202, "accepted!")
    job = _webhook_job(factory, user, receiver)
    response = api.post(f"/jobs/{job.id}/execute", token=factory.token(user))
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Job triggered successfully"
    assert body["job_id"] == job.id
    execution = _execution(db, body["execution_id"])
    assert (execution.status, execution.trigger_type, execution.response_status) == ("success", "manual", 202)
    assert (execution.execution_type, execution.target) == ("webhook", f"{receiver.url}/hook")
    assert execution.output == "accepted!"
    assert execution.error_message is None
    assert execution.completed_at is not None and execution.duration_seconds is not None
    [call] = receiver.to("/hook")
    assert call.method == "POST"
    assert call.json() == {"suite": "smoke"}


def test_webhook_run_with_empty_metadata_uses_get(
    api: ApiClient, factory: Factory, user: User, receiver: Receiver  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    job = _webhook_job(factory, user, receiver, job_metadata=None)
    _run(api, factory.token(user), job)
    [call] = receiver.to("/hook")
    assert (call.method, call.body) == ("GET", b"")


def test_metadata_override_replaces_job_metadata_for_this_run_only(
    api: ApiClient, factory: Factory, db: Session, user: User, receiver: Receiver  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    job = _webhook_job(factory, user, receiver)
    _run(api, factory.token(user), job, json={"metadata": {"only": "this"}})
    assert receiver.to("/hook")[0].json() == {"only": "this"}
    db.expire_all()
    assert json.loads(db.get(Job, job.id).job_metadata) == {"suite": "smoke"}  # type: ignore[union-attr, arg-type]  # None here fails the test, as it should


def test_target_url_override_is_called_and_not_persisted(
    api: ApiClient, factory: Factory, db: Session, user: User, receiver: Receiver  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    job = _webhook_job(factory, user, receiver)
    execution_id = _run(api, factory.token(user), job, json={"target_url": f"{receiver.url}/other"})
    assert len(receiver.to("/other")) == 1 and receiver.to("/hook") == []
    assert _execution(db, execution_id).target == f"{receiver.url}/other"
    assert db.get(Job, job.id).target_url == f"{receiver.url}/hook"  # type: ignore[union-attr]  # None here fails the test, as it should


def test_webhook_error_status_records_a_failed_run(
    api: ApiClient, factory: Factory, db: Session, user: User, receiver: Receiver  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    receiver.respond("/hook", 500, "x" * 5000)
    job = _webhook_job(factory, user, receiver)
    execution = _execution(db, _run(api, factory.token(user), job))
    assert (execution.status, execution.response_status) == ("failed", 500)
    assert execution.error_message == "Webhook returned status 500"
    assert execution.output == "x" * 1000


def test_webhook_on_a_closed_port_records_a_failed_run(
    api: ApiClient, factory: Factory, db: Session, user: User
) -> None:
    job = factory.job(user, target_url=closed_port_url())
    execution = _execution(db, _run(api, factory.token(user), job))
    assert execution.status == "failed"
    assert execution.response_status is None and execution.output is None
    assert execution.error_message is not None
    assert execution.error_message.startswith("Webhook call failed: ")
    assert len(execution.error_message) > len("Webhook call failed: ")


def test_admin_may_execute_any_job(
    api: ApiClient, factory: Factory, db: Session, user: User, admin: User, receiver: Receiver  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    job = _webhook_job(factory, user, receiver)
    assert _execution(db, _run(api, factory.token(admin), job)).status == "success"


# --- GitHub runs ---------------------------------------------------------------------------


def test_github_run_dispatches_with_token_ref_and_inputs(
    api: ApiClient, factory: Factory, db: Session, user: User, receiver: Receiver  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    receiver.respond(f"{WORKFLOWS}/deploy.yml/dispatches", 204, b"")
    job = _github_job(factory, user)
    execution = _execution(db, _run(api, factory.token(user), job))
    [call] = receiver.requests
    assert (call.method, call.path) == ("POST", f"{WORKFLOWS}/deploy.yml/dispatches")
    assert call.headers["authorization"] == f"Bearer {SERVER_TOKEN}"
    assert call.headers["accept"] == "application/vnd.github+json"
    assert call.headers["x-github-api-version"] == "2022-11-28"
    assert call.headers["content-type"] == "application/json"
    assert call.json() == {"ref": "release", "inputs": {"branchDetails": "release", "suite": "smoke"}}
    assert (execution.status, execution.response_status) == ("success", 204)
    assert (execution.execution_type, execution.target) == ("github_actions", "acme/api/deploy.yml")
    assert execution.output == "Workflow triggered successfully on branch release"


def test_github_ref_defaults_to_master(
    api: ApiClient, factory: Factory, user: User, receiver: Receiver  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    receiver.respond(f"{WORKFLOWS}/deploy.yml/dispatches", 204, b"")
    job = _github_job(factory, user, job_metadata=None)
    _run(api, factory.token(user), job)
    assert receiver.requests[0].json() == {"ref": "master", "inputs": {}}


def test_github_404_retries_with_yml_and_records_the_suffixed_name(
    api: ApiClient, factory: Factory, db: Session, user: User, receiver: Receiver  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    receiver.respond(f"{WORKFLOWS}/deploy/dispatches", 404, '{"message": "Not Found"}')
    receiver.respond(f"{WORKFLOWS}/deploy.yml/dispatches", 204, b"")
    job = _github_job(factory, user, github_workflow_name="deploy")
    execution = _execution(db, _run(api, factory.token(user), job))
    assert [r.path for r in receiver.requests] == [
        f"{WORKFLOWS}/deploy/dispatches",
        f"{WORKFLOWS}/deploy.yml/dispatches",
    ]
    assert execution.status == "success"
    assert execution.target == "acme/api/deploy.yml"


def test_github_404_tries_yaml_after_yml(
    api: ApiClient, factory: Factory, db: Session, user: User, receiver: Receiver  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    receiver.default = Reply(404, b"nope")
    job = _github_job(factory, user, github_workflow_name="deploy")
    execution = _execution(db, _run(api, factory.token(user), job))
    assert [r.path.rsplit("/", 2)[1] for r in receiver.requests] == ["deploy", "deploy.yml", "deploy.yaml"]
    assert (execution.status, execution.response_status) == ("failed", 404)
    assert execution.error_message == "GitHub Actions dispatch failed. Status: 404, Response: nope"
    assert execution.target == "acme/api/deploy.yaml"


def test_github_numeric_workflow_id_is_not_retried(
    api: ApiClient, factory: Factory, user: User, receiver: Receiver  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    receiver.respond(f"{WORKFLOWS}/12345/dispatches", 404, b"")
    job = _github_job(factory, user, github_workflow_name="12345")
    _run(api, factory.token(user), job)
    assert len(receiver.requests) == 1


def test_github_token_override_is_used_and_never_stored(
    api: ApiClient, factory: Factory, db: Session, user: User, receiver: Receiver  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    receiver.respond(f"{WORKFLOWS}/deploy.yml/dispatches", 422, "bad ref")
    job = _github_job(factory, user)
    secret = "ghp_override_secret_value"
    execution_id = _run(api, factory.token(user), job, json={"github_token": secret})
    assert receiver.requests[0].headers["authorization"] == f"Bearer {secret}"
    db.expire_all()
    execution = _execution(db, execution_id)
    stored = [execution.error_message, execution.output, execution.target]
    stored += [n.message for n in db.scalars(select(Notification))]
    stored += [str(v) for v in vars(db.get(Job, job.id)).values()]
    assert not any(secret in (text or "") for text in stored)


def test_dispatch_url_and_explicit_fields_override_the_workflow(
    api: ApiClient, factory: Factory, db: Session, user: User, receiver: Receiver  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    job = _github_job(factory, user)
    body = {
        "dispatch_url": "https://github.com/other/tools/actions/workflows/run.yml",
        "github_repo": "tools2",
        "github_owner": "",
    }
    execution = _execution(db, _run(api, factory.token(user), job, json=body))
    assert receiver.requests[0].path == "/repos/other/tools2/actions/workflows/run.yml/dispatches"
    assert execution.target == "other/tools2/run.yml"
    db.expire_all()
    assert db.get(Job, job.id).github_repo == "api"  # type: ignore[union-attr]  # None here fails the test, as it should


# --- notifications, email, Slack -----------------------------------------------------------


def test_successful_run_notifies_every_user(
    api: ApiClient, factory: Factory, db: Session, user: User, admin: User, viewer: User, receiver: Receiver  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    job = _webhook_job(factory, user, receiver)
    execution_id = _run(api, factory.token(user), job)
    db.expire_all()
    rows = db.scalars(select(Notification)).all()
    assert sorted(r.user_id for r in rows) == sorted([user.id, admin.id, viewer.id])
    assert {(r.title, r.message, r.type, r.related_job_id, r.related_execution_id) for r in rows} == {
        ("Job Completed", f'Job "{job.name}" completed successfully.', "success", job.id, execution_id)
    }


def test_failed_run_notifies_every_user_with_the_error(
    api: ApiClient, factory: Factory, db: Session, user: User, admin: User, receiver: Receiver  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    receiver.respond("/hook", 503, "down")
    job = _webhook_job(factory, user, receiver)
    execution_id = _run(api, factory.token(user), job)
    db.expire_all()
    rows = db.scalars(select(Notification)).all()
    assert len(rows) == 2
    assert {(r.title, r.message, r.type, r.related_execution_id) for r in rows} == {
        ("Job Failed", f'Job "{job.name}" failed: Webhook returned status 503', "error", execution_id)
    }


def test_failed_run_emails_the_job_addresses(
    api: ApiClient, factory: Factory, user: User, receiver: Receiver, smtp: SmtpSink  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    receiver.respond("/hook", 500, "boom")
    job = _webhook_job(
        factory, user, receiver, enable_email_notifications=True, notification_emails="ops@example.com, qa@example.org"
    )
    _run(api, factory.token(user), job)
    [mail] = smtp.mails
    assert sorted(mail.recipients) == ["ops@example.com", "qa@example.org"]
    assert mail.sender == "noreply@cronjobscheduler.local"
    assert mail.subject == f"\U0001f534 Job Failure Alert: {job.name}"
    parts = mail.parts()
    assert set(parts) == {"text/plain", "text/html"}
    for text in parts.values():
        assert job.name in text and job.id in text and "Webhook returned status 500" in text


def test_no_email_when_the_job_has_email_notifications_off(
    api: ApiClient, factory: Factory, user: User, receiver: Receiver, smtp: SmtpSink  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    receiver.respond("/hook", 500, "boom")
    job = _webhook_job(factory, user, receiver, enable_email_notifications=False, notification_emails="ops@example.com")
    _run(api, factory.token(user), job)
    assert smtp.mails == []


def test_success_email_only_with_notify_on_success(
    api: ApiClient, factory: Factory, user: User, receiver: Receiver, smtp: SmtpSink  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    quiet = _webhook_job(
        factory, user, receiver, enable_email_notifications=True, notification_emails="ops@example.com"
    )
    _run(api, factory.token(user), quiet)
    assert smtp.mails == []
    loud = _webhook_job(
        factory, user, receiver, enable_email_notifications=True, notify_on_success=True,
        notification_emails="ops@example.com",
    )
    _run(api, factory.token(user), loud)
    [mail] = smtp.mails
    assert mail.subject == f"\u2705 Job Success: {loud.name}"
    assert " seconds" in mail.parts()["text/plain"]


def test_failure_email_skips_users_who_turned_failure_mail_off(
    api: ApiClient, factory: Factory, db: Session, user: User, receiver: Receiver, smtp: SmtpSink  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    muted = factory.user("viewer", email="muted@example.com")
    db.add(UserNotificationPreferences(user_id=muted.id, email_on_job_failure=False))
    db.commit()
    receiver.respond("/hook", 500, "boom")
    job = _webhook_job(
        factory, user, receiver, enable_email_notifications=True,
        notification_emails="MUTED@example.com,other@example.com",
    )
    _run(api, factory.token(user), job)
    [mail] = smtp.mails
    assert mail.recipients == ["other@example.com"]


def test_failed_run_posts_to_slack_with_the_team_mention(
    api: ApiClient, factory: Factory, db: Session, user: User, team: Any, receiver: Receiver  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    _enable_slack(db, receiver, channel=None)
    receiver.respond("/hook", 500, "boom")
    job = _webhook_job(factory, user, receiver, pic_team="team-a")
    _run(api, factory.token(user), job)
    [post] = receiver.to("/slack")
    assert post.json() == {
        "text": f":x: @team-a Job failed: <http://spa.example/jobs/{job.id}/edit|{job.name}> (manual): "
        "Webhook returned status 500"
    }


def test_success_after_a_failure_posts_a_recovery_to_slack(
    api: ApiClient, factory: Factory, db: Session, user: User, team: Any, receiver: Receiver  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    _enable_slack(db, receiver)
    receiver.respond("/hook", 500, "boom")
    receiver.respond("/hook", 200, "fine")
    job = _webhook_job(factory, user, receiver, pic_team="team-a")
    _run(api, factory.token(user), job)
    _run(api, factory.token(user), job)
    posts = [p.json()["text"] for p in receiver.to("/slack")]
    assert len(posts) == 2
    assert posts[0].startswith(":x: @team-a Job failed:")
    assert posts[1] == f":white_check_mark: @team-a Job recovered: <http://spa.example/jobs/{job.id}/edit|{job.name}>"


def test_success_without_a_previous_failure_posts_nothing_to_slack(
    api: ApiClient, factory: Factory, db: Session, user: User, team: Any, receiver: Receiver  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    _enable_slack(db, receiver)
    job = _webhook_job(factory, user, receiver)
    _run(api, factory.token(user), job)
    _run(api, factory.token(user), job)
    assert receiver.to("/slack") == []


def _wait_for(condition: Any, timeout: float = 5.0) -> None:
    """Deliveries queued by a 4xx answer (auto-pause) run after the response, on the loop."""
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


class TestMailSwitchedOff:
    @pytest.fixture
    def settings_overrides(self, receiver: Receiver, smtp: SmtpSink) -> dict[str, Any]:  # noqa: F811  # the imported pytest fixture, injected by name
        return {"MAIL_ENABLED": False, "MAIL_USERNAME": "mailer", "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp.port}

    def test_no_email_when_mail_is_disabled(
        self, api: ApiClient, factory: Factory, db: Session, user: User, receiver: Receiver, smtp: SmtpSink  # noqa: F811  # the imported pytest fixture, injected by name
    ) -> None:
        receiver.respond("/hook", 500, "boom")
        job = _webhook_job(
            factory, user, receiver, enable_email_notifications=True, notification_emails="ops@example.com"
        )
        execution_id = _run(api, factory.token(user), job)
        assert _execution(db, execution_id).status == "failed"
        assert smtp.mails == []

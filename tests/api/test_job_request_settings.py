"""Per-job request settings (contract 7.8, 8.1): method, headers, body, timeout, retries, signing.

Through each door, against real loopback receivers; signatures are checked here with an HMAC
computed independently of the service's signing code.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from src.config import Settings
from src.core.clock import local_today
from src.models import Job, JobExecution, User
from tests.api.conftest import ApiClient
from tests.api.test_execute import _wait_for
from tests.conftest import Factory
from tests.receivers import Receiver, closed_port_url, receiver  # noqa: F401  # pytest fixtures, imported so tests can request them

SECRET_KEY = bytes(range(32))
SECRET = "whsec_" + base64.b64encode(SECRET_KEY).decode()
HEADER_VALUE = "Bearer header-value-that-must-stay-private"
BODY = '{"deploy": "blue"}'


@pytest.fixture
def token(factory: Factory, user: User) -> str:
    return factory.token(user)


@pytest.fixture
def create_body(settings: Settings, team: Any, receiver: Receiver) -> dict[str, Any]:  # noqa: F811  # the imported pytest fixture, injected by name
    return {
        "name": "signed call",
        "cron_expression": "0 2 * * *",
        "end_date": (local_today(settings.scheduler_tz) + timedelta(days=30)).isoformat(),
        "pic_team": "team-a",
        "target_url": f"{receiver.url}/hook",
    }


def _expected_signature(message_id: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(SECRET_KEY, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def _create(api: ApiClient, token: str, body: dict[str, Any]) -> dict[str, Any]:
    response = api.post("/jobs", token=token, json=body)
    assert response.status_code == 201, response.text
    return response.json()["job"]  # type: ignore[no-any-return]  # JSON is untyped


def _newest_execution(db: Session, job_id: str) -> JobExecution:
    db.expire_all()
    row = db.scalars(
        select(JobExecution).where(JobExecution.job_id == job_id).order_by(JobExecution.started_at.desc())
    ).first()
    assert row is not None
    return row


# --- what it must show, item 1 -------------------------------------------------------------


def test_signed_put_with_header_and_body_is_retried_until_it_succeeds(
    api: ApiClient, token: str, create_body: dict[str, Any], receiver: Receiver, db: Session  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    receiver.respond("/hook", 503, "busy")
    receiver.respond("/hook", 503, "busy")
    receiver.respond("/hook", 200, "done")
    answers = []
    created = api.post("/jobs", token=token, json=create_body | {
        "http_method": "PUT", "http_headers": {"X-Deploy-Token": HEADER_VALUE}, "request_body": BODY,
        "timeout_seconds": 5, "max_retries": 2, "retry_backoff_seconds": 1, "signing_secret": SECRET,
    })
    answers.append(created)
    job_id = created.json()["job"]["id"]
    execute = api.post(f"/jobs/{job_id}/execute", token=token)
    answers.append(execute)
    answers += [api.get(f"/jobs/{job_id}", token=token), api.get("/jobs", token=token),
                api.get(f"/jobs/{job_id}/executions", token=token), api.get("/executions", token=token)]

    calls = receiver.to("/hook")
    assert [call.method for call in calls] == ["PUT", "PUT", "PUT"]
    for call in calls:
        assert call.headers["x-deploy-token"] == HEADER_VALUE
        assert call.body == BODY.encode()
        assert call.headers["webhook-signature"] == _expected_signature(
            call.headers["webhook-id"], call.headers["webhook-timestamp"], call.body)
    assert len({call.headers["webhook-id"] for call in calls}) == 1
    assert execute.json()["status"] == "success"
    execution = _newest_execution(db, job_id)
    assert (execution.status, execution.attempts, execution.response_status) == ("success", 3, 200)
    for answer in answers:
        assert answer.status_code in (200, 201), answer.text
        assert HEADER_VALUE not in answer.text
        assert SECRET not in answer.text


# --- the settings on the wire --------------------------------------------------------------


def test_responses_show_header_names_and_signing_enabled_only(
    api: ApiClient, token: str, create_body: dict[str, Any]
) -> None:
    job = _create(api, token, create_body | {"http_headers": {"X-A": "secret-a"}, "signing_secret": SECRET})
    assert job["http_header_names"] == ["X-A"]
    assert job["signing_enabled"] is True
    assert "http_headers" not in job and "signing_secret" not in job


def test_a_job_without_the_fields_shows_their_defaults(
    api: ApiClient, token: str, create_body: dict[str, Any]
) -> None:
    job = _create(api, token, create_body)
    assert {key: job[key] for key in (
        "http_method", "http_header_names", "request_body", "timeout_seconds", "max_retries",
        "retry_backoff_seconds", "signing_enabled")} == {
        "http_method": None, "http_header_names": [], "request_body": None, "timeout_seconds": None,
        "max_retries": 0, "retry_backoff_seconds": 10, "signing_enabled": False}


def test_update_sets_and_clears_the_settings(
    api: ApiClient, token: str, create_body: dict[str, Any]
) -> None:
    job = _create(api, token, create_body | {"http_headers": {"X-A": "1"}, "signing_secret": SECRET})
    updated = api.put(f"/jobs/{job['id']}", token=token, json={
        "http_method": "patch", "http_headers": None, "signing_secret": "", "max_retries": 4}).json()["job"]
    assert (updated["http_method"], updated["http_header_names"], updated["signing_enabled"],
            updated["max_retries"]) == ("PATCH", [], False, 4)


def test_update_without_the_keys_keeps_the_settings(
    api: ApiClient, token: str, create_body: dict[str, Any], db: Session
) -> None:
    job = _create(api, token, create_body | {"http_headers": {"X-A": "1"}, "signing_secret": SECRET,
                                             "timeout_seconds": 7})
    api.put(f"/jobs/{job['id']}", token=token, json={"name": "renamed"})
    db.expire_all()
    stored = db.get(Job, job["id"])
    assert stored is not None
    assert (stored.signing_secret, stored.http_headers, stored.timeout_seconds) == (SECRET, '{"X-A": "1"}', 7)


# --- per-field rules (7.8) -----------------------------------------------------------------

SHORT_SECRET = "whsec_" + base64.b64encode(b"x" * 10).decode()
INVALID = [
    ("http_method", "TRACE", "Invalid http_method", "http_method must be one of GET, POST, PUT, PATCH, DELETE."),
    ("http_method", 5, "Invalid http_method", "http_method must be one of GET, POST, PUT, PATCH, DELETE."),
    ("http_headers", ["X-A"], "Invalid http_headers",
     "http_headers must be an object of header name to string value."),
    ("http_headers", {"Host": "evil"}, "Invalid http_headers", 'The header "Host" cannot be set on a job.'),
    ("http_headers", {"Connection": "close"}, "Invalid http_headers",
     'The header "Connection" cannot be set on a job.'),
    ("http_headers", {"transfer-encoding": "chunked"}, "Invalid http_headers",
     'The header "transfer-encoding" cannot be set on a job.'),
    ("http_headers", {"Bad Name": "1"}, "Invalid http_headers", '"Bad Name" is not a valid header name.'),
    ("http_headers", {"X-A": "line\r\nX-B: injected"}, "Invalid http_headers",
     'The value of "X-A" must be a string of at most 8192 characters without control characters.'),
    ("http_headers", {"X-A": 1}, "Invalid http_headers",
     'The value of "X-A" must be a string of at most 8192 characters without control characters.'),
    ("request_body", {"a": 1}, "Invalid request_body", "request_body must be a string."),
    ("timeout_seconds", 0, "Invalid timeout_seconds", "timeout_seconds must be an integer from 1 to 300."),
    ("timeout_seconds", 301, "Invalid timeout_seconds", "timeout_seconds must be an integer from 1 to 300."),
    ("timeout_seconds", 2.5, "Invalid timeout_seconds", "timeout_seconds must be an integer from 1 to 300."),
    ("timeout_seconds", "30", "Invalid timeout_seconds", "timeout_seconds must be an integer from 1 to 300."),
    ("max_retries", -1, "Invalid max_retries", "max_retries must be an integer from 0 to 10."),
    ("max_retries", 11, "Invalid max_retries", "max_retries must be an integer from 0 to 10."),
    ("max_retries", True, "Invalid max_retries", "max_retries must be an integer from 0 to 10."),
    ("retry_backoff_seconds", 0, "Invalid retry_backoff_seconds",
     "retry_backoff_seconds must be an integer from 1 to 3600."),
    ("retry_backoff_seconds", 3601, "Invalid retry_backoff_seconds",
     "retry_backoff_seconds must be an integer from 1 to 3600."),
]
SECRET_MESSAGE = 'signing_secret must be "whsec_" followed by the base64 of 24 to 64 random bytes.'
INVALID += [
    ("signing_secret", value, "Invalid signing_secret", SECRET_MESSAGE)
    for value in ("plain-secret", "whsec_not*base64", SHORT_SECRET, 42)
]


@pytest.mark.parametrize(("key", "value", "error", "message"), INVALID)
def test_create_with_an_invalid_setting_is_400_and_creates_nothing(
    api: ApiClient, token: str, create_body: dict[str, Any], db: Session,
    key: str, value: Any, error: str, message: str,
) -> None:
    response = api.post("/jobs", token=token, json=create_body | {key: value})
    assert response.status_code == 400
    assert response.json() == {"error": error, "message": message}
    db.expire_all()
    assert db.scalars(select(Job)).all() == []


@pytest.mark.parametrize(("key", "value", "error", "message"), INVALID)
def test_update_with_an_invalid_setting_is_400_and_changes_nothing(
    api: ApiClient, token: str, create_body: dict[str, Any], db: Session,
    key: str, value: Any, error: str, message: str,
) -> None:
    job = _create(api, token, create_body)
    response = api.put(f"/jobs/{job['id']}", token=token, json={"name": "renamed", key: value})
    assert response.status_code == 400
    assert response.json() == {"error": error, "message": message}
    db.expire_all()
    stored = db.get(Job, job["id"])
    assert stored is not None and stored.name == "signed call"


def test_a_header_value_is_never_echoed_in_an_error(
    api: ApiClient, token: str, create_body: dict[str, Any]
) -> None:
    value = "private\x00value"
    response = api.post("/jobs", token=token, json=create_body | {"http_headers": {"X-A": value}})
    assert response.status_code == 400
    assert "private" not in response.text


# --- how runs use them (8.1) ---------------------------------------------------------------


def _run(api: ApiClient, token: str, job_id: str) -> dict[str, Any]:
    response = api.post(f"/jobs/{job_id}/execute", token=token)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]  # JSON is untyped


def test_calls_carry_the_service_user_agent(
    api: ApiClient, token: str, create_body: dict[str, Any], receiver: Receiver  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    job = _create(api, token, create_body)
    _run(api, token, job["id"])
    assert receiver.to("/hook")[0].headers["user-agent"] == "cron-job-backend/2.0.0"


def test_an_unsigned_job_sends_no_signature_headers(
    api: ApiClient, token: str, create_body: dict[str, Any], receiver: Receiver  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    job = _create(api, token, create_body)
    _run(api, token, job["id"])
    assert not {"webhook-id", "webhook-timestamp", "webhook-signature"} & set(receiver.to("/hook")[0].headers)


def test_a_signed_call_without_a_body_signs_the_empty_body(
    api: ApiClient, token: str, create_body: dict[str, Any], receiver: Receiver  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    job = _create(api, token, create_body | {"signing_secret": SECRET})
    _run(api, token, job["id"])
    call = receiver.to("/hook")[0]
    assert call.method == "GET"
    assert call.headers["webhook-signature"] == _expected_signature(
        call.headers["webhook-id"], call.headers["webhook-timestamp"], b"")


def test_metadata_is_sent_with_the_chosen_method_when_there_is_no_body(
    api: ApiClient, token: str, create_body: dict[str, Any], receiver: Receiver  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    job = _create(api, token, create_body | {"http_method": "PATCH", "metadata": {"a": 1}})
    _run(api, token, job["id"])
    call = receiver.to("/hook")[0]
    assert (call.method, call.json(), call.headers["content-type"]) == ("PATCH", {"a": 1}, "application/json")


def test_the_body_goes_with_its_own_content_type(
    api: ApiClient, token: str, create_body: dict[str, Any], receiver: Receiver  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    job = _create(api, token, create_body | {
        "http_method": "POST", "request_body": "a=1&b=2", "metadata": {"ignored": True},
        "http_headers": {"Content-Type": "application/x-www-form-urlencoded"}})
    _run(api, token, job["id"])
    call = receiver.to("/hook")[0]
    assert (call.body, call.headers["content-type"]) == (b"a=1&b=2", "application/x-www-form-urlencoded")


def test_a_client_error_is_not_retried(
    api: ApiClient, token: str, create_body: dict[str, Any], receiver: Receiver, db: Session  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    receiver.respond("/hook", 404, "no such hook")
    job = _create(api, token, create_body | {"max_retries": 3, "retry_backoff_seconds": 1})
    answer = _run(api, token, job["id"])
    assert answer["status"] == "failed"
    assert len(receiver.to("/hook")) == 1
    assert _newest_execution(db, job["id"]).attempts == 1


def test_a_redirect_is_not_followed_nor_retried(
    api: ApiClient, token: str, create_body: dict[str, Any], receiver: Receiver, db: Session  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    receiver.respond("/hook", 302, "", Location=f"{receiver.url}/elsewhere")
    job = _create(api, token, create_body | {"max_retries": 2, "retry_backoff_seconds": 1})
    assert _run(api, token, job["id"])["status"] == "failed"
    assert receiver.to("/elsewhere") == [] and len(receiver.to("/hook")) == 1


def test_429_is_retried_after_the_wait_the_target_asks_for(
    api: ApiClient, token: str, create_body: dict[str, Any], receiver: Receiver, db: Session  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    # Retry-After 0 replaces the backoff (3600 s here): the retry comes at once.
    receiver.respond("/hook", 429, "slow down", **{"Retry-After": "0"})
    receiver.respond("/hook", 200, "ok")
    job = _create(api, token, create_body | {"max_retries": 1, "retry_backoff_seconds": 3600})
    assert _run(api, token, job["id"])["status"] == "success"
    assert _newest_execution(db, job["id"]).attempts == 2


def test_a_connection_error_is_retried_and_the_run_fails_when_retries_are_spent(
    api: ApiClient, token: str, create_body: dict[str, Any], db: Session
) -> None:
    job = _create(api, token, create_body | {"target_url": closed_port_url(), "max_retries": 1,
                                             "retry_backoff_seconds": 1})
    assert _run(api, token, job["id"])["status"] == "failed"
    execution = _newest_execution(db, job["id"])
    assert (execution.attempts, execution.response_status) == (2, None)
    assert execution.error_message is not None and execution.error_message.startswith("Webhook call failed")


def test_a_run_records_duration_ms_and_a_text_excerpt(
    api: ApiClient, token: str, create_body: dict[str, Any], receiver: Receiver, db: Session  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    receiver.respond("/hook", 200, "é" * 2000, **{"Content-Type": "text/plain; charset=utf-8"})
    job = _create(api, token, create_body)
    _run(api, token, job["id"])
    execution = _newest_execution(db, job["id"])
    assert execution.response_excerpt == "é" * 512
    assert execution.duration_ms is not None and execution.duration_ms >= 0
    rendered = api.get(f"/jobs/{job['id']}/executions", token=token).json()["executions"][0]
    assert (rendered["attempts"], rendered["response_excerpt"]) == (1, "é" * 512)


def test_a_binary_response_has_no_excerpt(
    api: ApiClient, token: str, create_body: dict[str, Any], receiver: Receiver, db: Session  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    receiver.respond("/hook", 200, b"\x89PNG\r\n\x1a\n", **{"Content-Type": "image/png"})
    job = _create(api, token, create_body)
    _run(api, token, job["id"])
    assert _newest_execution(db, job["id"]).response_excerpt is None


def test_a_failed_manual_run_answers_failed(
    api: ApiClient, token: str, create_body: dict[str, Any], receiver: Receiver  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    receiver.respond("/hook", 500, "boom")
    job = _create(api, token, create_body)
    answer = _run(api, token, job["id"])
    assert answer["status"] == "failed" and answer["execution_id"]


def test_a_run_still_going_when_the_wait_ends_answers_running_and_finishes_in_the_background(
    api: ApiClient, token: str, create_body: dict[str, Any], receiver: Receiver, db: Session,  # noqa: F811  # the imported pytest fixture, injected by name
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from src.core import execution_plans

    monkeypatch.setattr(execution_plans, "MANUAL_RUN_WAIT_SECONDS", 0.2)
    receiver.respond("/hook", 200, "late", delay=1.5)
    job = _create(api, token, create_body)
    answer = _run(api, token, job["id"])
    assert answer["status"] == "running"
    db.expire_all()
    assert db.get(JobExecution, answer["execution_id"]).status == "running"  # type: ignore[union-attr]  # None here fails the test, as it should
    _wait_for(lambda: _newest_execution(db, job["id"]).status == "success", timeout=10)


class TestWithTheOutboundGuardOn:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"ALLOW_PRIVATE_TARGETS": False}

    def test_the_guard_refuses_every_attempt_and_a_refusal_is_not_retried(
        self, api: ApiClient, factory: Factory, user: User, receiver: Receiver, db: Session  # noqa: F811  # the imported pytest fixture, injected by name
    ) -> None:
        job = factory.job(user, target_url=f"{receiver.url}/hook", max_retries=3, retry_backoff_seconds=1)
        answer = api.post(f"/jobs/{job.id}/execute", token=factory.token(user)).json()
        assert answer["status"] == "failed"
        assert receiver.to("/hook") == []
        execution = _newest_execution(db, job.id)
        assert execution.attempts == 1
        assert execution.error_message is not None and "Blocked outbound address" in execution.error_message


class TestGithubJobs:
    @pytest.fixture
    def settings_overrides(self, receiver: Receiver) -> dict[str, Any]:  # noqa: F811  # the imported pytest fixture, injected by name
        return {"GITHUB_API_BASE_URL": receiver.url, "GITHUB_TOKEN": "server-token"}

    def test_a_github_dispatch_is_retried_on_a_5xx(
        self, api: ApiClient, factory: Factory, user: User, receiver: Receiver, db: Session  # noqa: F811  # the imported pytest fixture, injected by name
    ) -> None:
        path = "/repos/acme/api/actions/workflows/deploy.yml/dispatches"
        receiver.respond(path, 502, "bad gateway")
        receiver.respond(path, 204, "")
        job = factory.job(user, target_url=None, github_owner="acme", github_repo="api",
                          github_workflow_name="deploy.yml", max_retries=1, retry_backoff_seconds=1)
        answer = api.post(f"/jobs/{job.id}/execute", token=factory.token(user)).json()
        assert answer["status"] == "success"
        assert len(receiver.to(path)) == 2
        execution = _newest_execution(db, job.id)
        assert (execution.attempts, execution.response_status) == (2, 204)

"""POST /jobs/test-run and /cron/test-run (contract 4.10) against a real loopback receiver."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from src.models import Job, JobExecution, Notification, User
from tests.api.conftest import ApiClient
from tests.conftest import Factory
from tests.receivers import Receiver, closed_port_url, receiver  # noqa: F401  # pytest fixtures, imported so tests can request them

SERVER_TOKEN = "server-token-456"
DISPATCHES = "/repos/acme/api/actions/workflows/ci.yml/dispatches"


@pytest.fixture
def settings_overrides(receiver: Receiver) -> dict[str, Any]:  # noqa: F811  # the imported pytest fixture, injected by name
    return {"GITHUB_API_BASE_URL": receiver.url, "GITHUB_TOKEN": SERVER_TOKEN}


GITHUB_FIELDS = {"github_owner": "acme", "github_repo": "api", "github_workflow_name": "ci.yml"}


# --- validation ----------------------------------------------------------------------------


def test_viewer_is_refused_by_role_gate(api: ApiClient, factory: Factory, viewer: User) -> None:
    response = api.post("/jobs/test-run", token=factory.token(viewer), json={"target_url": "http://x"})
    assert response.status_code == 403
    assert response.json() == {
        "error": "Insufficient permissions",
        "message": "This endpoint requires one of the following roles: admin, user",
    }


def test_non_json_body_is_refused(api: ApiClient, factory: Factory, user: User) -> None:
    response = api.post(
        "/jobs/test-run", token=factory.token(user), content=b"{}", headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 400
    assert response.json() == {"error": "Content-Type must be application/json"}


def test_metadata_that_is_not_an_object_is_refused(api: ApiClient, factory: Factory, user: User) -> None:
    response = api.post(
        "/jobs/test-run", token=factory.token(user), json={"target_url": "http://x", "metadata": "text"}
    )
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid metadata", "message": '"metadata" must be an object.'}


def test_missing_target_is_refused_even_with_a_partial_github_config(
    api: ApiClient, factory: Factory, user: User
) -> None:
    response = api.post(
        "/jobs/test-run", token=factory.token(user), json={"github_repo": "api", "github_workflow_name": "ci.yml"}
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "Missing target configuration",
        "message": "Provide target_url or GitHub config (github_owner, github_repo, github_workflow_name).",
    }


def test_webhook_url_without_http_scheme_is_refused(api: ApiClient, factory: Factory, user: User) -> None:
    response = api.post("/jobs/test-run", token=factory.token(user), json={"target_url": "ftp://example.com/x"})
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid target_url", "message": "Webhook URL must start with http:// or https://"}


def test_non_numeric_timeout_is_refused(api: ApiClient, factory: Factory, user: User) -> None:
    response = api.post(
        "/jobs/test-run", token=factory.token(user), json={"target_url": "http://x", "timeout_seconds": "soon"}
    )
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid payload", "message": '"timeout_seconds" must be a number.'}


# --- webhook -------------------------------------------------------------------------------


def test_webhook_test_run_posts_metadata_and_reports_success(
    api: ApiClient, factory: Factory, user: User, receiver: Receiver  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    receiver.respond("/hook", 201, "made")
    body = {"target_url": f"{receiver.url}/hook", "metadata": {"a": 1}, "timeout_seconds": 99}
    response = api.post("/jobs/test-run", token=factory.token(user), json=body)
    assert response.status_code == 200
    assert response.json() == {
        "ok": True, "type": "webhook", "status_code": 201, "message": "Webhook test run succeeded.",
    }
    [call] = receiver.to("/hook")
    assert (call.method, call.json()) == ("POST", {"a": 1})


def test_webhook_test_run_posts_an_empty_object_without_metadata(
    api: ApiClient, factory: Factory, user: User, receiver: Receiver  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    api.post("/jobs/test-run", token=factory.token(user), json={"target_url": f"{receiver.url}/hook"})
    [call] = receiver.to("/hook")
    assert (call.method, call.json()) == ("POST", {})


def test_webhook_test_run_reports_an_error_status(
    api: ApiClient, factory: Factory, user: User, receiver: Receiver  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    receiver.respond("/hook", 500, "boom")
    response = api.post("/jobs/test-run", token=factory.token(user), json={"target_url": f"{receiver.url}/hook"})
    assert response.status_code == 200
    assert response.json() == {
        "ok": False,
        "type": "webhook",
        "status_code": 500,
        "message": "Webhook test run failed.",
    }


def test_target_url_wins_over_github_fields(
    api: ApiClient, factory: Factory, user: User, receiver: Receiver  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    body = {"target_url": f"{receiver.url}/hook", **GITHUB_FIELDS}
    response = api.post("/jobs/test-run", token=factory.token(user), json=body)
    assert response.json()["type"] == "webhook"
    assert [r.path for r in receiver.requests] == ["/hook"]


def test_network_error_is_reported_in_a_200(api: ApiClient, factory: Factory, user: User) -> None:
    response = api.post("/jobs/test-run", token=factory.token(user), json={"target_url": closed_port_url()})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"ok", "type", "error", "message"}
    assert (body["ok"], body["type"], body["error"]) == (False, "webhook", "Request failed")
    assert body["message"]


def test_alias_path_behaves_the_same(
    api: ApiClient, factory: Factory, user: User, receiver: Receiver  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    response = api.post("/cron/test-run", token=factory.token(user), json={"target_url": f"{receiver.url}/hook"})
    assert response.status_code == 200
    assert response.json()["message"] == "Webhook test run succeeded."


def test_test_run_creates_no_job_execution_or_notification(
    api: ApiClient, factory: Factory, db: Session, user: User, receiver: Receiver  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    api.post("/jobs/test-run", token=factory.token(user), json={"target_url": f"{receiver.url}/hook"})
    db.expire_all()
    assert db.scalars(select(Job)).all() == []
    assert db.scalars(select(JobExecution)).all() == []
    assert db.scalars(select(Notification)).all() == []


# --- GitHub --------------------------------------------------------------------------------


def test_github_test_run_dispatches_with_ref_and_inputs(
    api: ApiClient, factory: Factory, user: User, receiver: Receiver  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    receiver.respond(DISPATCHES, 201, b"")
    body = {**GITHUB_FIELDS, "metadata": {"branch": "dev", "x": "y"}}
    response = api.post("/jobs/test-run", token=factory.token(user), json=body)
    assert response.status_code == 200
    assert response.json() == {
        "ok": True, "type": "github", "status_code": 201, "message": "GitHub workflow dispatch triggered.",
    }
    [call] = receiver.requests
    assert (call.method, call.path) == ("POST", DISPATCHES)
    assert call.headers["authorization"] == f"Bearer {SERVER_TOKEN}"
    assert call.headers["accept"] == "application/vnd.github+json"
    assert call.headers["x-github-api-version"] == "2022-11-28"
    assert call.json() == {"ref": "dev", "inputs": {"branch": "dev", "x": "y"}}


def test_github_test_run_without_metadata_sends_ref_main_only(
    api: ApiClient, factory: Factory, user: User, receiver: Receiver  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    receiver.respond(DISPATCHES, 204, b"")
    response = api.post("/jobs/test-run", token=factory.token(user), json=GITHUB_FIELDS)
    assert response.json()["ok"] is True
    assert receiver.requests[0].json() == {"ref": "main"}


def test_github_test_run_reports_a_failed_dispatch(
    api: ApiClient, factory: Factory, user: User, receiver: Receiver  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    receiver.respond(DISPATCHES, 404, "Not Found")
    response = api.post("/jobs/test-run", token=factory.token(user), json=GITHUB_FIELDS)
    assert response.json() == {
        "ok": False, "type": "github", "status_code": 404, "message": "GitHub workflow dispatch failed.",
    }
    assert len(receiver.requests) == 1


class TestWithoutServerToken:
    @pytest.fixture
    def settings_overrides(self, receiver: Receiver) -> dict[str, Any]:  # noqa: F811  # the imported pytest fixture, injected by name
        return {"GITHUB_API_BASE_URL": receiver.url, "GITHUB_TOKEN": ""}

    def test_github_test_run_without_token_is_reported_without_calling_out(
        self, api: ApiClient, factory: Factory, user: User, receiver: Receiver  # noqa: F811  # the imported pytest fixture, injected by name
    ) -> None:
        response = api.post("/jobs/test-run", token=factory.token(user), json=GITHUB_FIELDS)
        assert response.status_code == 200
        assert response.json() == {
            "ok": False,
            "type": "github",
            "error": "GitHub token not configured",
            "message": "Set GITHUB_TOKEN in backend .env to test-run GitHub workflows.",
        }
        assert receiver.requests == []


def test_github_network_error_is_reported_in_a_200(
    api: ApiClient, factory: Factory, user: User, receiver: Receiver  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    receiver.stop()
    response = api.post("/jobs/test-run", token=factory.token(user), json=GITHUB_FIELDS)
    body = response.json()
    assert (response.status_code, body["ok"], body["type"], body["error"]) == (200, False, "github", "Request failed")


class TestWithTheOutboundGuardOn:
    @pytest.fixture
    def settings_overrides(self, receiver: Receiver) -> dict[str, Any]:  # noqa: F811  # the imported pytest fixture, injected by name
        return {"ALLOW_PRIVATE_TARGETS": False, "GITHUB_API_BASE_URL": receiver.url, "GITHUB_TOKEN": SERVER_TOKEN}

    @pytest.mark.parametrize("kind", ["webhook", "github"])
    def test_a_loopback_target_is_refused_and_reported_in_a_200(
        self, api: ApiClient, factory: Factory, user: User, receiver: Receiver, kind: str  # noqa: F811  # the imported pytest fixture, injected by name
    ) -> None:
        target = {"target_url": f"{receiver.url}/hook"} if kind == "webhook" else GITHUB_FIELDS
        response = api.post("/jobs/test-run", token=factory.token(user), json=target)
        assert response.status_code == 200
        body = response.json()
        assert (body["ok"], body["type"], body["error"]) == (False, kind, "Request failed")
        assert body["message"].startswith("Blocked outbound address 127.0.0.1")
        assert receiver.requests == []

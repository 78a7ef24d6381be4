from __future__ import annotations

import re

import pytest

from tests.api.conftest import LEGACY_PREFIX_SERVED_BY, ApiClient
from tests.conftest import Factory


def test_health_reports_service_and_no_scheduler(api: ApiClient) -> None:
    response = api.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "healthy"
    assert body["service"] == "cron-job-scheduler"
    assert body["api"] == "v2"
    assert body["scheduler_running"] is False
    assert body["scheduled_jobs_count"] == 0
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", body["timestamp"])


def test_unprefixed_health_alias_answers(api: ApiClient) -> None:
    response = api.http.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "healthy"


def test_unknown_route_is_enveloped_404(api: ApiClient) -> None:
    response = api.get("/no-such-route")
    assert response.status_code == 404
    assert response.json() == {"error": "Not found", "message": "The requested URL was not found on the server."}


def test_wrong_method_is_enveloped_405(api: ApiClient) -> None:
    response = api.delete("/health")
    assert response.status_code == 405
    assert response.json() == {
        "error": "Method not allowed",
        "message": "The method is not allowed for the requested URL.",
    }


@pytest.mark.parametrize(("method", "path", "allowed"), [
    ("TRACE", "/health", {"GET", "HEAD", "OPTIONS"}),
    ("PATCH", "/jobs", {"GET", "HEAD", "OPTIONS", "POST"}),
    ("POST", "/jobs/1", {"GET", "HEAD", "OPTIONS", "PUT", "DELETE"}),
    # A literal path beside a templated one (/jobs/{job_id}): its own route's methods only, as
    # the document lists them.
    ("PATCH", "/jobs/bulk-upload", {"POST"}),
    ("PATCH", "/jobs/validate-cron", {"POST"}),
    ("PATCH", "/notifications/unread-count", {"GET", "HEAD", "OPTIONS"}),
])
def test_wrong_method_names_every_method_the_path_serves_in_allow(
    api: ApiClient, method: str, path: str, allowed: set[str]
) -> None:
    response = api.request(method, path)
    assert response.status_code == 405
    assert {name.strip() for name in response.headers["Allow"].split(",")} == allowed


def test_every_response_names_the_door(api: ApiClient) -> None:
    response = api.get("/health")
    expected = LEGACY_PREFIX_SERVED_BY if api.prefix == "/api" else "fastapi"
    assert response.headers["X-Served-By"] == expected


@pytest.mark.parametrize("path", ["/health", "/jobs"])
def test_head_answers_like_get_without_a_body(api: ApiClient, factory: Factory, path: str) -> None:
    token = factory.token(factory.user("admin"))
    get = api.get(path, token=token)
    head = api.request("HEAD", path, token=token)
    assert head.status_code == get.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]


@pytest.mark.parametrize("path", ["/jobs/bulk-upload", "/notifications/read-all"])
def test_options_allow_names_the_documented_methods_only(api: ApiClient, path: str) -> None:
    response = api.request("OPTIONS", path)
    allowed = {name.strip() for name in response.headers["Allow"].split(",")} - {"HEAD", "OPTIONS"}
    assert allowed == ({"POST"} if path.endswith("upload") else {"PUT"})

from __future__ import annotations

import re

from tests.api.conftest import LEGACY_PREFIX_SERVED_BY, ApiClient


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


def test_every_response_names_the_door(api: ApiClient) -> None:
    response = api.get("/health")
    expected = LEGACY_PREFIX_SERVED_BY if api.prefix == "/api" else "fastapi"
    assert response.headers["X-Served-By"] == expected

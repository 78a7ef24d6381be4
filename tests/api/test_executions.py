"""Execution reads (contract 5.1-5.4, 5.6, 2.3, 1.7)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest

from src.models import Job, JobExecution, User
from tests.api.conftest import ApiClient
from tests.conftest import Factory

INSTANT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
INVALID_DATE = {"error": "Invalid date", "message": "Invalid date format. Use YYYY-MM-DD or ISO datetime."}
INVALID_RANGE = {"error": "Invalid date range", "message": '"from" must be earlier than "to".'}
EXECUTION_KEYS = {"id", "job_id", "status", "trigger_type", "started_at", "completed_at", "duration_seconds",
                  "execution_type", "target", "response_status", "error_message", "output"}
BASE = datetime(2025, 6, 1, 12, 0, 0)


@pytest.fixture
def token(factory: Factory, viewer: User) -> str:
    return factory.token(viewer)


@pytest.fixture
def job(factory: Factory, user: User) -> Job:
    return factory.job(user, name="Nightly", github_owner="org", github_repo="api",
                       github_workflow_name="ci.yml", target_url=None)


def _run(factory: Factory, job: Job, minutes: int = 0, **fields: Any) -> JobExecution:
    return factory.execution(job, started_at=BASE + timedelta(minutes=minutes), **fields)


def _ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in items]


# --- GET /jobs/{id}/executions ----------------------------------------------------------------


def test_job_executions_newest_first_with_full_shape(api: ApiClient, factory: Factory, job: Job, token: str) -> None:
    older = _run(factory, job, 0)
    newer = _run(
        factory,
        job,
        5,
        status="failed",
        trigger_type="manual",
        completed_at=BASE + timedelta(minutes=5, seconds=1),
        duration_seconds=0.532,
        execution_type="github_actions",
        target="org/api/ci.yml",
        response_status=500,
        error_message="boom",
        output="body",
    )
    factory.execution(factory.job(), started_at=BASE)
    response = api.get(f"/jobs/{job.id}/executions", token=token)
    assert response.status_code == 200
    body = response.json()
    assert (body["job_id"], body["job_name"], body["total_executions"]) == (job.id, "Nightly", 2)
    assert _ids(body["executions"]) == [newer.id, older.id]
    item = body["executions"][0]
    assert set(item) >= EXECUTION_KEYS
    assert item["started_at"] == "2025-06-01T12:05:00.000Z"
    assert item["completed_at"] == "2025-06-01T12:05:01.000Z"
    assert (item["status"], item["trigger_type"], item["duration_seconds"]) == ("failed", "manual", 0.532)
    assert (item["execution_type"], item["target"], item["response_status"]) == (
        "github_actions",
        "org/api/ci.yml",
        500,
    )
    assert (item["error_message"], item["output"]) == ("boom", "body")


def test_job_executions_limit_and_total_counts_returned(api: ApiClient, factory: Factory, job: Job, token: str) -> None:
    runs = [_run(factory, job, i) for i in range(4)]
    body = api.get(f"/jobs/{job.id}/executions?limit=2", token=token).json()
    assert body["total_executions"] == 2
    assert _ids(body["executions"]) == [runs[3].id, runs[2].id]


@pytest.mark.parametrize(("limit", "expected"), [("0", 1), ("-4", 1), ("abc", 3), ("500", 3)])
def test_job_executions_limit_is_clamped(api: ApiClient, factory: Factory, job: Job, token: str,
                                         limit: str, expected: int) -> None:
    for i in range(3):
        _run(factory, job, i)
    assert api.get(f"/jobs/{job.id}/executions?limit={limit}", token=token).json()["total_executions"] == expected


def test_job_executions_default_limit_is_50(api: ApiClient, factory: Factory, job: Job, token: str) -> None:
    for i in range(51):
        _run(factory, job, i)
    assert api.get(f"/jobs/{job.id}/executions", token=token).json()["total_executions"] == 50


def test_job_executions_filters_status_list_and_trigger(api: ApiClient, factory: Factory, job: Job, token: str) -> None:
    failed = _run(factory, job, 1, status="failed")
    running = _run(factory, job, 2, status="running", trigger_type="manual")
    _run(factory, job, 3, status="success")
    body = api.get(f"/jobs/{job.id}/executions?status=failed, running", token=token).json()
    assert _ids(body["executions"]) == [running.id, failed.id]
    body = api.get(f"/jobs/{job.id}/executions?status=failed,running&trigger_type=manual", token=token).json()
    assert _ids(body["executions"]) == [running.id]
    body = api.get(f"/jobs/{job.id}/executions?status=failed", token=token).json()
    assert _ids(body["executions"]) == [failed.id]


def test_job_executions_date_range(api: ApiClient, factory: Factory, job: Job, token: str) -> None:
    _run(factory, job, -1)
    inside = _run(factory, job, 0)
    _run(factory, job, 60)
    body = api.get(f"/jobs/{job.id}/executions", token=token,
                   params={"from": "2025-06-01T21:00:00+09:00", "to": "2025-06-01T12:30:00Z"}).json()
    assert _ids(body["executions"]) == [inside.id]


def test_job_executions_unknown_job_is_404_before_date_errors(api: ApiClient, token: str) -> None:
    response = api.get("/jobs/nonexistent/executions?from=garbage", token=token)
    assert response.status_code == 404
    assert response.json() == {"error": "Job not found", "message": "No job found with ID: nonexistent"}


def test_job_executions_invalid_date_is_400(api: ApiClient, job: Job, token: str) -> None:
    response = api.get(f"/jobs/{job.id}/executions?to=06/01/2025", token=token)
    assert response.status_code == 400
    assert response.json() == INVALID_DATE


def test_job_executions_inverted_range_is_400(api: ApiClient, job: Job, token: str) -> None:
    response = api.get(f"/jobs/{job.id}/executions?from=2025-06-02&to=2025-06-01", token=token)
    assert response.status_code == 400
    assert response.json() == INVALID_RANGE


def test_job_executions_requires_authentication(api: ApiClient, job: Job) -> None:
    assert api.get(f"/jobs/{job.id}/executions").status_code == 401


# --- GET /jobs/{id}/executions/stats ----------------------------------------------------------


def test_job_stats_counts_rate_and_successful_average(api: ApiClient, factory: Factory, job: Job, token: str) -> None:
    _run(factory, job, 0, status="success", duration_seconds=1.0)
    _run(factory, job, 1, status="success", duration_seconds=2.333)
    _run(factory, job, 2, status="success", duration_seconds=None)
    _run(factory, job, 3, status="failed", duration_seconds=100.0)
    _run(factory, job, 4, status="failed")
    latest = _run(factory, job, 5, status="running")
    response = api.get(f"/jobs/{job.id}/executions/stats", token=token)
    assert response.status_code == 200
    body = response.json()
    assert (body["job_id"], body["job_name"]) == (job.id, "Nightly")
    assert body["statistics"] == {"total_executions": 6, "success_count": 3, "failed_count": 2, "running_count": 1,
                                  "success_rate": 50.0, "average_duration_seconds": 1.67}
    assert body["latest_execution"]["id"] == latest.id


def test_job_stats_rounds_success_rate(api: ApiClient, factory: Factory, job: Job, token: str) -> None:
    _run(factory, job, 0), _run(factory, job, 1, status="failed"), _run(factory, job, 2, status="failed")
    assert api.get(f"/jobs/{job.id}/executions/stats", token=token).json()["statistics"]["success_rate"] == 33.33


def test_job_stats_without_executions(api: ApiClient, job: Job, token: str) -> None:
    body = api.get(f"/jobs/{job.id}/executions/stats", token=token).json()
    assert body["statistics"] == {"total_executions": 0, "success_count": 0, "failed_count": 0, "running_count": 0,
                                  "success_rate": 0, "average_duration_seconds": None}
    assert body["latest_execution"] is None


def test_job_stats_average_is_null_without_successful_durations(
    api: ApiClient, factory: Factory, job: Job, token: str
) -> None:
    _run(factory, job, 0, status="failed", duration_seconds=3.0)
    _run(factory, job, 1, status="success", duration_seconds=None)
    assert (
        api.get(f"/jobs/{job.id}/executions/stats", token=token).json()["statistics"]["average_duration_seconds"]
        is None
    )


def test_job_stats_unknown_job_is_404(api: ApiClient, token: str) -> None:
    response = api.get("/jobs/nope/executions/stats", token=token)
    assert response.status_code == 404
    assert response.json() == {"error": "Job not found", "message": "No job found with ID: nope"}


# --- GET /jobs/{id}/executions/{eid} ----------------------------------------------------------


def test_job_execution_detail(api: ApiClient, factory: Factory, job: Job, token: str) -> None:
    execution = _run(factory, job, 0)
    response = api.get(f"/jobs/{job.id}/executions/{execution.id}", token=token)
    assert response.status_code == 200
    body = response.json()
    assert body["job"] == {"id": job.id, "name": "Nightly"}
    assert body["execution"]["id"] == execution.id
    assert set(body["execution"]) >= EXECUTION_KEYS


def test_job_execution_of_another_job_is_404(api: ApiClient, factory: Factory, job: Job, token: str) -> None:
    other = factory.execution(factory.job())
    response = api.get(f"/jobs/{job.id}/executions/{other.id}", token=token)
    assert response.status_code == 404
    assert response.json() == {"error": "Execution not found",
                               "message": f"No execution found with ID: {other.id} for job: {job.id}"}


def test_job_execution_unknown_job_is_404_first(api: ApiClient, factory: Factory, job: Job, token: str) -> None:
    execution = _run(factory, job, 0)
    response = api.get(f"/jobs/nope/executions/{execution.id}", token=token)
    assert response.json() == {"error": "Job not found", "message": "No job found with ID: nope"}


# --- GET /executions --------------------------------------------------------------------------


def test_list_executions_with_job_name_and_repo(api: ApiClient, factory: Factory, job: Job, token: str) -> None:
    hook_job = factory.job(name="Hook")
    first = _run(factory, job, 0)
    second = factory.execution(hook_job, started_at=BASE + timedelta(minutes=1), execution_type="webhook",
                               target="http://127.0.0.1:9/hook")
    response = api.get("/executions", token=token)
    assert response.status_code == 200
    body = response.json()
    assert (body["total"], body["page"], body["limit"], body["total_pages"]) == (2, 1, 20, 1)
    assert _ids(body["executions"]) == [second.id, first.id]
    newest, oldest = body["executions"]
    assert set(newest) >= EXECUTION_KEYS | {"job_name", "github_repo"}
    assert (newest["job_name"], newest["github_repo"], newest["target"]) == ("Hook", None, "http://127.0.0.1:9/hook")
    assert (oldest["job_name"], oldest["github_repo"], oldest["job_id"]) == ("Nightly", "api", job.id)
    assert INSTANT.fullmatch(oldest["started_at"])


def test_list_executions_pages(api: ApiClient, factory: Factory, job: Job, token: str) -> None:
    runs = [_run(factory, job, i) for i in range(5)]
    body = api.get("/executions?page=2&limit=2", token=token).json()
    assert _ids(body["executions"]) == [runs[2].id, runs[1].id]
    assert (body["total"], body["page"], body["limit"], body["total_pages"]) == (5, 2, 2, 3)


def test_list_executions_page_past_the_end(api: ApiClient, factory: Factory, job: Job, token: str) -> None:
    _run(factory, job, 0)
    body = api.get("/executions?page=7", token=token).json()
    assert body["executions"] == []
    assert (body["total"], body["page"], body["total_pages"]) == (1, 7, 1)


def test_list_executions_empty(api: ApiClient, token: str) -> None:
    body = api.get("/executions", token=token).json()
    assert body == {"executions": [], "total": 0, "page": 1, "limit": 20, "total_pages": 0}


@pytest.mark.parametrize(("query", "page", "limit"), [
    ("page=0&limit=0", 1, 1), ("page=-1&limit=999", 1, 200), ("page=x&limit=y", 1, 20), ("limit=200", 1, 200),
])
def test_list_executions_clamps_and_echoes(api: ApiClient, token: str, query: str, page: int, limit: int) -> None:
    body = api.get(f"/executions?{query}", token=token).json()
    assert (body["page"], body["limit"]) == (page, limit)


def test_list_executions_filters(api: ApiClient, factory: Factory, job: Job, token: str) -> None:
    other_job = factory.job()
    failed_manual = _run(factory, job, 0, status="failed", trigger_type="manual", execution_type="github_actions")
    running = _run(factory, job, 1, status="running", execution_type="github_actions")
    _run(factory, job, 2, status="success", execution_type="github_actions")
    hook = factory.execution(other_job, started_at=BASE - timedelta(minutes=1), status="failed",
                             execution_type="webhook")

    def ids(query: str) -> list[str]:
        return _ids(api.get(f"/executions?{query}", token=token).json()["executions"])

    assert ids("status=failed,running") == [running.id, failed_manual.id, hook.id]
    assert ids(f"job_id={job.id}&status=failed") == [failed_manual.id]
    assert ids("trigger_type=manual") == [failed_manual.id]
    assert ids("execution_type=webhook") == [hook.id]
    assert ids("job_id=unknown") == []


def test_list_executions_date_only_to_includes_the_day(api: ApiClient, factory: Factory, job: Job, token: str) -> None:
    day_end = factory.execution(job, started_at=datetime(2025, 6, 1, 23, 59, 59))
    factory.execution(job, started_at=datetime(2025, 6, 2, 0, 0, 0))
    factory.execution(job, started_at=datetime(2025, 5, 31, 23, 59, 59))
    body = api.get("/executions?from=2025-06-01&to=2025-06-01", token=token).json()
    assert _ids(body["executions"]) == [day_end.id]
    assert body["total"] == 1


def test_list_executions_naive_datetime_is_utc(api: ApiClient, factory: Factory, job: Job, token: str) -> None:
    inside = _run(factory, job, 0)
    _run(factory, job, -1)
    assert _ids(api.get("/executions?from=2025-06-01T12:00:00", token=token).json()["executions"]) == [inside.id]


def test_list_executions_blank_bounds_mean_no_bound(api: ApiClient, factory: Factory, job: Job, token: str) -> None:
    run = _run(factory, job, 0)
    assert _ids(api.get("/executions?from=&to=%20", token=token).json()["executions"]) == [run.id]


def test_list_executions_leap_second_is_the_next_minutes_start(
    api: ApiClient, factory: Factory, job: Job, token: str
) -> None:
    factory.execution(job, started_at=datetime(2025, 6, 1, 0, 0, 0))
    assert api.get("/executions?from=2025-05-31T23:59:60Z", token=token).json()["total"] == 1
    assert api.get("/executions?to=2025-05-31T23:59:60Z", token=token).json()["total"] == 0


@pytest.mark.parametrize(("query", "expected"), [
    ("from=not-a-date", INVALID_DATE),
    ("to=2025-02-30", INVALID_DATE),
    ("from=2025-06-01T10:00:00Z&to=2025-06-01T09:00:00Z", INVALID_RANGE),
])
def test_list_executions_date_errors(api: ApiClient, token: str, query: str, expected: dict[str, str]) -> None:
    response = api.get(f"/executions?{query}", token=token)
    assert response.status_code == 400
    assert response.json() == expected


# --- GET /executions/{id} ---------------------------------------------------------------------


def test_execution_detail_with_job(api: ApiClient, factory: Factory, job: Job, token: str) -> None:
    execution = _run(factory, job, 0, output="ok")
    response = api.get(f"/executions/{execution.id}", token=token)
    assert response.status_code == 200
    item = response.json()["execution"]
    assert (item["id"], item["job_name"], item["github_repo"], item["output"]) == (execution.id, "Nightly", "api", "ok")


def test_execution_detail_unknown_is_404(api: ApiClient, token: str) -> None:
    response = api.get("/executions/nope", token=token)
    assert response.status_code == 404
    assert response.json() == {"error": "Execution not found", "message": "No execution found with ID: nope"}


def test_execution_detail_requires_authentication(api: ApiClient) -> None:
    response = api.get("/executions/nope")
    assert response.status_code == 401

"""Cron tools (contract 4.8, 4.9, 4.11) and their `/cron/*` aliases, through each door."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from src.models import User
from tests.api.conftest import ApiClient
from tests.conftest import Factory

LOCAL_INSTANT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+09:00")
FIELD_COUNT = "Cron expression must have exactly 5 fields (minute hour day month day-of-week)."


@pytest.fixture
def token(factory: Factory, viewer: User) -> str:
    """Every role may use the cron tools; a viewer proves it."""
    return factory.token(viewer)


# --- validate-cron ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/jobs/validate-cron", "/cron/validate"])
def test_validate_accepts_a_valid_expression(api: ApiClient, token: str, path: str) -> None:
    response = api.post(path, token=token, json={"expression": "0 2 * * 1-5"})
    assert response.status_code == 200
    assert response.json() == {"valid": True, "message": "Valid cron expression"}


@pytest.mark.parametrize("path", ["/jobs/validate-cron", "/cron/validate"])
def test_validate_reports_a_wrong_field_count_in_a_200(api: ApiClient, token: str, path: str) -> None:
    response = api.post(path, token=token, json={"expression": "0 2 * *"})
    assert response.status_code == 200
    assert response.json() == {"valid": False, "error": "Invalid cron expression", "message": FIELD_COUNT}


def test_validate_reports_a_blank_expression(api: ApiClient, token: str) -> None:
    response = api.post("/jobs/validate-cron", token=token, json={})
    assert response.json() == {
        "valid": False, "error": "Invalid cron expression", "message": "Cron expression is required."}


@pytest.mark.parametrize("expression", ["@daily", "0 0 2 * * *", "0 0 2 * * * 2030", "61 * * * *", "* * * * 8"])
def test_validate_rejects_macros_extra_fields_and_out_of_range_values(
    api: ApiClient, token: str, expression: str
) -> None:
    body = api.post("/jobs/validate-cron", token=token, json={"expression": expression}).json()
    assert body["valid"] is False
    assert body["error"] == "Invalid cron expression"
    assert body["message"]


def test_validate_reads_cron_expression_when_expression_is_absent(api: ApiClient, token: str) -> None:
    body = api.post("/jobs/validate-cron", token=token, json={"cron_expression": "0 2 * * *"}).json()
    assert body["valid"] is True


def test_validate_prefers_expression_over_cron_expression(api: ApiClient, token: str) -> None:
    body = api.post("/jobs/validate-cron", token=token,
                    json={"expression": "bad", "cron_expression": "0 2 * * *"}).json()
    assert body["valid"] is False


def test_validate_accepts_an_expression_that_never_fires(api: ApiClient, token: str) -> None:
    body = api.post("/jobs/validate-cron", token=token, json={"expression": "0 0 31 2 *"}).json()
    assert body["valid"] is True


def test_validate_with_wrong_content_type_is_400(api: ApiClient, token: str) -> None:
    response = api.post("/jobs/validate-cron", token=token, content=b"{}", headers={"Content-Type": "text/plain"})
    assert response.status_code == 400
    assert response.json() == {"error": "Content-Type must be application/json"}


def test_validate_requires_authentication(api: ApiClient) -> None:
    assert api.post("/jobs/validate-cron", json={"expression": "* * * * *"}).status_code == 401


# --- cron-preview -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/jobs/cron-preview", "/cron/next-runs"])
def test_preview_lists_five_runs_by_default_in_scheduler_time(api: ApiClient, token: str, path: str) -> None:
    response = api.post(path, token=token, json={"expression": "0 2 * * *"})
    assert response.status_code == 200
    body = response.json()
    assert body["timezone"] == "Asia/Tokyo"
    assert body["count"] == 5
    assert len(body["next_runs"]) == 5
    assert all(LOCAL_INSTANT.fullmatch(run) for run in body["next_runs"])
    runs = [datetime.fromisoformat(run) for run in body["next_runs"]]
    assert all((run.hour, run.minute) == (2, 0) for run in runs)
    assert [b - a for a, b in zip(runs, runs[1:], strict=False)] == [timedelta(days=1)] * 4
    assert datetime.now(UTC) - timedelta(minutes=1) <= runs[0] <= datetime.now(UTC) + timedelta(days=1)


@pytest.mark.parametrize(("count", "expected"), [(None, 5), (0, 5), (1, 1), ("3", 3), (50, 20), (-4, 1)])
def test_preview_count_defaults_and_clamps(api: ApiClient, token: str, count: object, expected: int) -> None:
    body = api.post("/jobs/cron-preview", token=token, json={"expression": "* * * * *", "count": count}).json()
    assert body["count"] == expected
    assert len(body["next_runs"]) == expected


def test_preview_with_non_numeric_count_is_400(api: ApiClient, token: str) -> None:
    response = api.post("/jobs/cron-preview", token=token, json={"expression": "* * * * *", "count": "many"})
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid payload", "message": '"count" must be a number.'}


def test_preview_of_an_invalid_expression_is_400(api: ApiClient, token: str) -> None:
    response = api.post("/jobs/cron-preview", token=token, json={"expression": "0 2 * *"})
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid cron expression", "message": FIELD_COUNT}


def test_preview_of_an_expression_that_never_fires_is_empty(api: ApiClient, token: str) -> None:
    body = api.post("/jobs/cron-preview", token=token, json={"expression": "0 0 31 2 *"}).json()
    assert (body["next_runs"], body["count"]) == ([], 0)


def test_preview_reads_weekday_ranges_the_crontab_way(api: ApiClient, token: str) -> None:
    body = api.post("/jobs/cron-preview", token=token, json={"expression": "0 9 * * 1-5", "count": 10}).json()
    weekdays = {datetime.fromisoformat(run).isoweekday() for run in body["next_runs"]}
    assert weekdays == {1, 2, 3, 4, 5}


def test_preview_with_wrong_content_type_is_400(api: ApiClient, token: str) -> None:
    response = api.post("/jobs/cron-preview", token=token, content=b"x", headers={"Content-Type": "text/plain"})
    assert response.status_code == 400
    assert response.json() == {"error": "Content-Type must be application/json"}


# --- cron-description -------------------------------------------------------------------------


def test_description_of_a_valid_expression(api: ApiClient, token: str) -> None:
    response = api.post("/jobs/cron-description", token=token, json={"expression": "  0 9 * * 1-5 "})
    assert response.status_code == 200
    body = response.json()
    assert (body["valid"], body["expression"], body["timezone"]) == (True, "0 9 * * 1-5", "Asia/Tokyo")
    assert body["description"]
    assert "error" not in body


def test_description_reads_numeric_day_of_week_as_crontab(api: ApiClient, token: str) -> None:
    weekdays = api.post("/jobs/cron-description", token=token, json={"expression": "0 9 * * 1-5"}).json()
    sunday = api.post("/jobs/cron-description", token=token, json={"expression": "0 9 * * 0"}).json()
    assert "Monday through Friday" in weekdays["description"]
    assert "Sunday" in sunday["description"]


def test_description_of_an_invalid_expression_is_a_200_result(api: ApiClient, token: str) -> None:
    response = api.post("/jobs/cron-description", token=token, json={"cron_expression": " 0 2 * * "})
    assert response.status_code == 200
    assert response.json() == {
        "valid": False, "expression": "0 2 * *", "timezone": "Asia/Tokyo", "description": "",
        "error": "Invalid cron expression", "message": FIELD_COUNT,
    }


def test_description_with_wrong_content_type_is_400(api: ApiClient, token: str) -> None:
    response = api.post("/jobs/cron-description", token=token, content=b"{}",
                        headers={"Content-Type": "text/plain"})
    assert response.status_code == 400
    assert response.json() == {"error": "Content-Type must be application/json"}

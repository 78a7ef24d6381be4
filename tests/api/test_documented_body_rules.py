"""The bounds /api/v2/openapi.json states for a body field are where both doors draw the line.

Each case reads the bound from the document, then sends the value at it (accepted) and one step
beyond it (refused with the field's own 400), so the document and the behaviour cannot drift.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from src.config import Settings
from src.core.clock import local_today
from src.models import User
from tests.api.conftest import ApiClient, fastapi_http
from tests.conftest import Factory

JOB_OPERATION = ("/jobs", "post")
REGISTER_OPERATION = ("/auth/register", "post")

INTEGER_BOUNDS = [
    ("timeout_seconds", "Invalid timeout_seconds"),
    ("max_retries", "Invalid max_retries"),
    ("retry_backoff_seconds", "Invalid retry_backoff_seconds"),
    ("failure_threshold", "Invalid failure_threshold"),
    ("grace_seconds", "Invalid grace_seconds"),
]
# (operation, field, the JSON-schema keyword stating the bound, the 400's error beyond it)
CASES: list[tuple[tuple[str, str], str, str, str]] = [
    (JOB_OPERATION, field, keyword, error) for field, error in INTEGER_BOUNDS for keyword in ("minimum", "maximum")
] + [
    (JOB_OPERATION, "request_body", "maxLength", "Invalid request_body"),
    (JOB_OPERATION, "http_headers", "maxProperties", "Invalid http_headers"),
    (REGISTER_OPERATION, "username", "minLength", "Username must be at least 3 characters long"),
    (REGISTER_OPERATION, "username", "maxLength", "Username must be at most 80 characters long"),
    (REGISTER_OPERATION, "email", "maxLength", "Invalid email"),
    (REGISTER_OPERATION, "password", "minLength", "Password must be at least 6 characters long"),
]


@pytest.fixture
def document(settings: Settings) -> Iterator[dict[str, Any]]:
    with fastapi_http(settings) as http:
        response = http.get("/api/v2/openapi.json")
        assert response.status_code == 200
        yield response.json()


def _field_schema(document: dict[str, Any], operation: tuple[str, str], field: str) -> dict[str, Any]:
    path, method = operation
    body = document["paths"][f"/api/v2{path}"][method]["requestBody"]["content"]["application/json"]["schema"]
    schema: dict[str, Any] = body["properties"][field]
    return schema


def _value(field: str, keyword: str, size: int) -> Any:
    """A value of `field` whose size (number, length or count, as `keyword` measures) is `size`."""
    if keyword in ("minimum", "maximum"):
        return size
    if keyword == "maxProperties":
        return {f"X-Header-{index}": "1" for index in range(size)}
    if field == "email":
        return "a" * (size - len("@example.com")) + "@example.com"
    return "x" * size


def _body(operation: tuple[str, str], settings: Settings, counter: int) -> dict[str, Any]:
    if operation == JOB_OPERATION:
        return {
            "name": f"bounded job {counter}",
            "cron_expression": "0 9 * * *",
            "end_date": (local_today(settings.scheduler_tz) + timedelta(days=30)).isoformat(),
            "pic_team": "team-a",
            "target_url": "https://hooks.example.com/run",
        }
    return {"username": f"bounded{counter}", "email": f"bounded{counter}@example.com", "password": "pass1234"}


@pytest.mark.parametrize(("operation", "field", "keyword", "error"), CASES)
def test_the_documented_bound_is_accepted_and_one_step_beyond_is_refused(
    api: ApiClient, admin: User, factory: Factory, team: Any, settings: Settings, document: dict[str, Any],
    operation: tuple[str, str], field: str, keyword: str, error: str,
) -> None:
    bound = _field_schema(document, operation, field)[keyword]
    beyond = bound - 1 if keyword.startswith("min") else bound + 1
    token = factory.token(admin)
    path = operation[0]

    refused = api.post(path, token=token, json=_body(operation, settings, 1) | {field: _value(field, keyword, beyond)})
    accepted = api.post(path, token=token, json=_body(operation, settings, 2) | {field: _value(field, keyword, bound)})

    assert (refused.status_code, refused.json()["error"]) == (400, error)
    assert accepted.status_code == 201, accepted.json()

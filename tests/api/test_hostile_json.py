"""JSON the parser cannot take, or the database cannot store, is a 400 on every JSON body (issue 15).

One hostile fragment is spliced into an otherwise valid body of each endpoint that reads JSON;
every one must answer the contract's envelope and change nothing, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from src.core.request_parsing import MAX_JSON_DEPTH
from src.models import Base, User
from tests.api.conftest import ApiClient
from tests.conftest import Factory

UNSTORABLE = {
    "error": "Invalid payload",
    "message": "A value contains characters or a number the database cannot store.",
}
TOO_DEEP = {"error": "Invalid JSON", "message": f"JSON nesting is deeper than {MAX_JSON_DEPTH} levels."}

# name → (JSON text of the hostile value, the answer it gets)
HOSTILE_VALUES: dict[str, tuple[str, dict[str, str]]] = {
    "nested-1000": ("[" * 1000 + "]" * 1000, TOO_DEEP),
    "nested-one-past-the-limit": ("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH, TOO_DEEP),
    "objects-nested-1000": ('{"a":' * 1000 + "1" + "}" * 1000, TOO_DEEP),
    "lone-high-surrogate": ('"\\ud800"', UNSTORABLE),
    "lone-low-surrogate-inside-text": ('"ab\\udfffcd"', UNSTORABLE),
    "nul": ('"a\\u0000b"', UNSTORABLE),
    "nul-deep-in-a-list": ('["ok", {"x": ["a\\u0000"]}]', UNSTORABLE),
}


def _far_future() -> str:
    return (date.today() + timedelta(days=400)).isoformat()


# name → (method, path from the seeded ids, base body, key receiving the hostile value, with token)
Endpoint = tuple[str, Callable[[dict[str, str]], str], dict[str, Any], str, bool]
ENDPOINTS: dict[str, Endpoint] = {
    "login": ("POST", lambda ids: "/auth/login", {"username": "alice", "password": "pw"}, "username", False),
    "register": ("POST", lambda ids: "/auth/register",
                 {"username": "newbie", "email": "newbie@example.com", "password": "secret123"}, "username", True),
    "create-job": ("POST", lambda ids: "/jobs", {"name": "Nightly", "cron_expression": "0 2 * * *",
                                                 "target_url": "https://hooks.example.com/run"}, "name", True),
    "create-job-metadata": ("POST", lambda ids: "/jobs", {"name": "Nightly", "cron_expression": "0 2 * * *",
                                                          "target_url": "https://hooks.example.com/run"},
                            "metadata", True),
    "update-job": ("PUT", lambda ids: f"/jobs/{ids['job']}", {"name": "Renamed"}, "name", True),
    "execute-job": ("POST", lambda ids: f"/jobs/{ids['job']}/execute", {}, "metadata", True),
    "create-category": ("POST", lambda ids: "/job-categories", {"name": "Reports"}, "name", True),
    "update-category": ("PUT", lambda ids: f"/job-categories/{ids['category']}", {"name": "Renamed"}, "name", True),
    "create-team": ("POST", lambda ids: "/pic-teams", {"name": "Team B"}, "name", True),
    "update-team": ("PUT", lambda ids: f"/pic-teams/{ids['team']}", {"name": "Renamed"}, "name", True),
    "update-user": ("PUT", lambda ids: f"/auth/users/{ids['admin']}", {"email": "new@example.com"}, "email", True),
    "preferences": ("PUT", lambda ids: f"/auth/users/{ids['admin']}/preferences", {"daily_digest": True},
                    "unknown", True),
    "ui-preferences": ("PUT", lambda ids: f"/auth/users/{ids['admin']}/ui-preferences",
                       {"columns": {"name": True}}, "columns", True),
    "slack-settings": ("PUT", lambda ids: "/settings/slack", {"is_enabled": False}, "channel_name", True),
    "validate-cron": ("POST", lambda ids: "/jobs/validate-cron", {"expression": "0 2 * * *"}, "expression", True),
    "cron-preview": ("POST", lambda ids: "/jobs/cron-preview", {"expression": "0 2 * * *"}, "expression", True),
    "test-run": ("POST", lambda ids: "/jobs/test-run", {"target_url": "http://127.0.0.1:9/"}, "target_url", True),
}


def _splice(base: dict[str, Any], key: str, fragment: str) -> bytes:
    """The base body's JSON with `"key": <fragment>` appended (a later duplicate key wins)."""
    text = json.dumps(base)
    separator = ", " if base else ""
    return (text[:-1] + separator + json.dumps(key) + ": " + fragment + "}").encode("utf-8")


def _everything(db: Session) -> dict[str, list[tuple[Any, ...]]]:
    db.expire_all()
    return {
        table.name: sorted((tuple(row) for row in db.execute(select(table))), key=repr)
        for table in Base.metadata.sorted_tables
    }


@pytest.fixture
def seeded(factory: Factory, admin: User) -> tuple[dict[str, str], str]:
    team = factory.team("Team A", slug="team-a")
    ids = {
        "admin": admin.id,
        "job": factory.job(admin, name="Existing").id,
        "category": factory.category("Ops").id,
        "team": team.id,
    }
    return ids, factory.token(admin)


@pytest.mark.parametrize("hostile", list(HOSTILE_VALUES))
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_hostile_json_is_a_400_envelope_and_changes_nothing(
    api: ApiClient, db: Session, seeded: tuple[dict[str, str], str], endpoint: str, hostile: str
) -> None:
    ids, token = seeded
    method, path, base, key, with_token = ENDPOINTS[endpoint]
    fragment, expected = HOSTILE_VALUES[hostile]
    before = _everything(db)
    response = api.request(method, path(ids), token=token if with_token else None,
                           content=_splice(base, key, fragment), headers={"Content-Type": "application/json"})
    assert (response.status_code, response.json()) == (400, expected)
    assert _everything(db) == before


def test_nesting_up_to_the_limit_is_accepted(api: ApiClient, seeded: tuple[dict[str, str], str]) -> None:
    _ids, token = seeded
    depth = MAX_JSON_DEPTH - 1  # the body object itself is the first level
    metadata = '{"a":' * depth + "1" + "}" * depth
    body = _splice({"name": "Deep", "cron_expression": "0 2 * * *", "target_url": "https://hooks.example.com/run",
                    "end_date": _far_future(), "pic_team": "team-a"}, "metadata", metadata)
    response = api.post("/jobs", token=token, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 201, response.text


def test_logout_ignores_a_hostile_body(api: ApiClient, factory: Factory, admin: User) -> None:
    token = factory.token(admin)
    response = api.post("/auth/logout", token=token, content=b"[" * 1000 + b"]" * 1000,
                        headers={"Content-Type": "application/json"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "form", [{"username": "a\x00b", "password": "pw"}, {"username": "alice", "password": "p\x00w"}]
)
def test_form_login_refuses_nul_alike_on_every_database(api: ApiClient, form: dict[str, str]) -> None:
    response = api.post("/auth/login/form", data=form)
    assert (response.status_code, response.json()) == (400, UNSTORABLE)


# --- the same rules for the CSV upload's cells and its Request Body column ---------------------

CSV_HEADER = "Job Name,Repo,Workflow Name,Branch,Cron schedule (JST),Status,End Date,PIC Team,Request Body"


@pytest.mark.parametrize(("name", "request_body", "expected"), [
    ("nul\x00name", "", UNSTORABLE),
    ("nightly", '"{""a"": ""x\x00""}"', UNSTORABLE),
    ("nightly", '"{""a"": ""\\ud800""}"', UNSTORABLE),
    ("nightly", '"' + '{""a"":' * 1000 + "1" + "}" * 1000 + '"', None),
    ("nightly", '"' + '[' * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1) + '"', None),
])
def test_bulk_upload_rows_with_hostile_text_are_row_errors_and_create_nothing(
    api: ApiClient, db: Session, seeded: tuple[dict[str, str], str], name: str, request_body: str,
    expected: dict[str, str] | None,
) -> None:
    _ids, token = seeded
    row = f"{name},acme/api,run.yml,main,0 2 * * *,Active,{_far_future()},team-a,{request_body}"
    before = _everything(db)
    response = api.post("/jobs/bulk-upload", token=token,
                        files={"file": ("jobs.csv", (CSV_HEADER + "\r\n" + row + "\r\n").encode("utf-8"), "text/csv")})
    assert response.status_code == 400
    [error] = response.json()["errors"]
    if expected is None:
        assert (error["error"], error["message"]) == ("Invalid JSON in Request Body", TOO_DEEP["message"])
    else:
        assert (error["error"], error["message"]) == (expected["error"], expected["message"])
    assert _everything(db) == before


@pytest.mark.parametrize("path", [
    "/jobs/a%00b",  # a path parameter
    "/executions?status=a%00b",  # a query value
    "/notifications?a%00b=1",  # a query name
    "/auth/users/x%00/preferences",
])
def test_a_nul_in_a_path_parameter_or_query_is_the_same_400(api: ApiClient, factory: Factory, path: str) -> None:
    token = factory.token(factory.user("admin"))
    response = api.get(path, token=token)
    assert response.status_code == 400
    assert response.json() == UNSTORABLE

"""Tokens cross the doors through the real HTTP stack: gunicorn (Flask) and uvicorn (FastAPI).

Both servers run as separate processes on 127.0.0.1 against one SQLite file, configured only by
environment variables, as in production.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from src.database.engines import create_sync_engine_from_settings, make_session_factory
from tests.conftest import Factory, legacy_door, make_settings
from tests.door_servers import SECRET, Door, start_doors, stop_processes

# Runs gunicorn (Flask) next to uvicorn.
pytestmark = legacy_door

@pytest.fixture(scope="module")
def doors(migrated_template: Path | str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Door]]:
    """Users admin/user/viewer in one database, served by both doors as real processes."""
    if not isinstance(migrated_template, Path):
        pytest.skip("the servers share a SQLite file")
    folder = tmp_path_factory.mktemp("cross-door")
    shutil.copyfile(migrated_template, folder / "app.db")
    url = f"sqlite:///{folder / 'app.db'}"
    settings = make_settings(url, JWT_SECRET_KEY=SECRET)
    engine = create_sync_engine_from_settings(settings)
    with make_session_factory(engine)() as session:
        seed(Factory(session, settings))
    engine.dispose()

    doors, processes = start_doors(url, folder, flask_workers=1)
    try:
        yield doors
    finally:
        stop_processes(processes)


def seed(factory: Factory) -> None:
    for role in ("admin", "user", "viewer"):
        factory.user(role, username=f"{role}-x", email=f"{role}-x@example.com")
    # Fresh users for the logout tests, so revoking their tokens can't disturb other tests.
    for door in ("flask", "fastapi"):
        factory.user("user", username=f"leaver-{door}", email=f"leaver-{door}@example.com")
    team = factory.team("Team A", slug="team-a")
    assert team.id


DIRECTIONS = [("flask", "fastapi"), ("fastapi", "flask")]
IDS = ["flask-to-fastapi", "fastapi-to-flask"]


@pytest.mark.parametrize(("issuer", "verifier"), DIRECTIONS, ids=IDS)
def test_access_token_from_one_door_is_accepted_by_the_other(
    doors: dict[str, Door], issuer: str, verifier: str
) -> None:
    login = doors[issuer].login("user-x")
    me = doors[verifier].call("GET", "/auth/me", login["access_token"])
    assert me.status_code == 200
    assert me.json()["user"] == login["user"]
    verify = doors[verifier].call("GET", "/auth/verify", login["access_token"])
    assert verify.json() == {"valid": True, "user_id": login["user"]["id"], "username": "user-x",
                             "role": "user", "message": "Token is valid"}


@pytest.mark.parametrize(("issuer", "verifier"), DIRECTIONS, ids=IDS)
def test_refresh_token_from_one_door_refreshes_on_the_other_and_the_new_token_works_back(
    doors: dict[str, Door], issuer: str, verifier: str
) -> None:
    login = doors[issuer].login("viewer-x")
    refreshed = doors[verifier].call("POST", "/auth/refresh", login["refresh_token"])
    assert refreshed.status_code == 200, refreshed.text
    assert set(refreshed.json()) == {"access_token", "token_type", "expires_in"}
    me = doors[issuer].call("GET", "/auth/me", refreshed.json()["access_token"])
    assert me.status_code == 200
    assert me.json()["username"] == "viewer-x"


@pytest.mark.parametrize(("issuer", "verifier"), DIRECTIONS, ids=IDS)
def test_each_token_type_is_refused_where_the_other_is_required_across_doors(
    doors: dict[str, Door], issuer: str, verifier: str
) -> None:
    login = doors[issuer].login("user-x")
    as_access = doors[verifier].call("GET", "/jobs", login["refresh_token"])
    assert (as_access.status_code, as_access.json()) == (
        401, {"error": "Invalid token type", "message": "Only non-refresh tokens are allowed"})
    as_refresh = doors[verifier].call("POST", "/auth/refresh", login["access_token"])
    assert (as_refresh.status_code, as_refresh.json()) == (
        401, {"error": "Invalid token type", "message": "Only refresh tokens are allowed"})


@pytest.mark.parametrize(("issuer", "verifier"), DIRECTIONS, ids=IDS)
def test_logout_on_one_door_revokes_access_and_refresh_tokens_on_the_other(
    doors: dict[str, Door], issuer: str, verifier: str
) -> None:
    login = doors[issuer].login(f"leaver-{issuer}")
    assert doors[verifier].call("GET", "/auth/me", login["access_token"]).status_code == 200
    logout = doors[issuer].call("POST", "/auth/logout", login["access_token"],
                                json={"refresh_token": login["refresh_token"]})
    assert logout.status_code == 200
    revoked = {"error": "Token has been revoked", "message": "Token has been revoked"}
    for door in (doors[verifier], doors[issuer]):
        me = door.call("GET", "/auth/me", login["access_token"])
        assert (me.status_code, me.json()) == (401, revoked)
        refresh = door.call("POST", "/auth/refresh", login["refresh_token"])
        assert (refresh.status_code, refresh.json()) == (401, revoked)


# (method, path, json) → expected status per role; the role gate answers before any 404.
GATES = [
    ("GET", "/jobs", None, {"admin": 200, "user": 200, "viewer": 200}),
    ("POST", "/jobs", {}, {"admin": 400, "user": 400, "viewer": 403}),
    ("POST", "/jobs/nonexistent/execute", None, {"admin": 404, "user": 404, "viewer": 403}),
    ("POST", "/jobs/test-run", {}, {"admin": 400, "user": 400, "viewer": 403}),
    ("GET", "/auth/users", None, {"admin": 200, "user": 403, "viewer": 403}),
    ("DELETE", "/auth/users/nonexistent", None, {"admin": 404, "user": 403, "viewer": 403}),
    ("GET", "/settings/slack", None, {"admin": 200, "user": 403, "viewer": 403}),
    ("GET", "/scheduler/status", None, {"admin": 200, "user": 403, "viewer": 403}),
    ("POST", "/job-categories", {}, {"admin": 400, "user": 403, "viewer": 403}),
    ("PUT", "/pic-teams/nonexistent", {}, {"admin": 404, "user": 403, "viewer": 403}),
]


@pytest.mark.parametrize("role", ["admin", "user", "viewer"])
@pytest.mark.parametrize(("issuer", "verifier"), DIRECTIONS, ids=IDS)
def test_every_role_meets_the_same_gates_on_both_doors_with_either_doors_token(
    doors: dict[str, Door], issuer: str, verifier: str, role: str
) -> None:
    token = doors[issuer].login(f"{role}-x")["access_token"]
    for method, path, body, expected in GATES:
        kwargs = {} if body is None else {"json": body}
        here = doors[issuer].call(method, path, token, **kwargs)
        there = doors[verifier].call(method, path, token, **kwargs)
        assert (here.status_code, there.status_code) == (expected[role], expected[role]), (method, path)
        if expected[role] == 403:
            assert there.json()["error"] == "Insufficient permissions"
            assert there.json()["message"].startswith("This endpoint requires one of the following roles: ")
        if expected[role] >= 400:
            assert here.json() == there.json(), (method, path)

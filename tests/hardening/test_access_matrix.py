"""Access control matrix generated from the contract's endpoint table (section 12), on both doors.

Every route (canonical and alias) × {anonymous, viewer, user, other, admin} → the contract's status
(1.4, 1.5, 7.5 and each endpoint's role line and per-resource checks). Everyone acts on the rows of
`user` (the owner): its job, execution, notification and profile, so `other` is "a user acting on
another user's resource". Each request is valid, so the status reflects authorization only.

One world is seeded per module and restored from a snapshot after every case (a fresh database and
app per case would make 650 cases take minutes).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from src.core.clock import local_today
from src.database.engines import create_sync_engine_from_settings, make_session_factory
from tests.api.conftest import DOORS
from tests.conftest import PASSWORD, Factory, make_settings
from tests.parity.conftest import Snapshot
from tests.parity.contract_table import normalize, table_rows

PRINCIPALS = ("anonymous", "viewer", "user", "other", "admin")


def insufficient(message: str) -> dict[str, str]:
    return {"error": "Insufficient permissions", "message": message}


ADMIN_GATE_BODY = insufficient("This endpoint requires one of the following roles: admin")
WRITER_GATE_BODY = insufficient("This endpoint requires one of the following roles: admin, user")
ANONYMOUS_BODY = {"error": "Authorization required", "message": "Missing Authorization Header"}

# Who is refused, and with which 403 body; a principal not listed is allowed.
Denials = dict[str, dict[str, str]]
ANY_ROLE: Denials = {}
ADMIN_ONLY: Denials = {"viewer": ADMIN_GATE_BODY, "user": ADMIN_GATE_BODY, "other": ADMIN_GATE_BODY}
WRITERS: Denials = {"viewer": WRITER_GATE_BODY}


def owner_or_admin(verb: str) -> Denials:
    """Update/delete job (4.4, 4.5): viewers and non-owners get the per-resource 403."""
    body = insufficient(f"You can only {verb} your own jobs")
    return {"viewer": body, "other": body}


# 4.6: the role gate refuses viewers first; a non-owner user gets the per-resource body.
EXECUTE: Denials = {"viewer": WRITER_GATE_BODY, "other": insufficient("You can only execute your own jobs")}


def self_or_admin(error: str) -> Denials:
    """/auth/users/{id}... (3.10, 3.11, 3.13-3.16): anyone but the user and admins."""
    return {"viewer": {"error": error}, "other": {"error": error}}


def own_notification(error: str) -> Denials:
    """6.9: notifications are the caller's own, even for admins."""
    return {"viewer": {"error": error}, "other": {"error": error}, "admin": {"error": error}}


@dataclass
class World:
    """Ids of the owner's rows, and each principal's access and refresh tokens."""

    ids: dict[str, str] = field(default_factory=dict)
    access: dict[str, str] = field(default_factory=dict)
    refresh: dict[str, str] = field(default_factory=dict)
    end_date: str = ""


Body = Callable[[World], dict[str, Any]]


def no_body(_world: World) -> dict[str, Any]:
    return {}


def json(payload: dict[str, Any]) -> Body:
    return lambda _world: {"json": payload}


@dataclass(frozen=True)
class Endpoint:
    """How to call one endpoint validly, and who the contract lets through."""

    denials: Denials | None  # None: public (no token needed)
    ids: tuple[str, ...] = ()  # World.ids keys substituted for the path's {params}, in order
    body: Body = no_body
    ok: int = 200
    ok_body: dict[str, Any] | None = None  # checked exactly when the allowed answer is fixed
    token_type: str = "access"


def new_job(world: World) -> dict[str, Any]:
    return {"json": {"name": "fresh-job", "cron_expression": "0 2 * * *", "end_date": world.end_date,
                     "pic_team": "team-a", "target_url": "http://127.0.0.1:9/hook"}}


def csv_upload(world: World) -> dict[str, Any]:
    text = f"name,cron,url,end date,pic team\nbulk-job,0 1 * * *,https://h.example.com,{world.end_date},team-a\n"
    return {"files": {"file": ("jobs.csv", text.encode(), "text/csv")}}


CRON = {"expression": "0 2 * * *"}

# Keyed by (method, canonical path as written in section 12); aliases reuse their canonical entry.
ENDPOINTS: dict[tuple[str, str], Endpoint] = {
    ("GET", "/health"): Endpoint(None),
    ("POST", "/auth/login"): Endpoint(None, body=json({"username": "owner", "password": PASSWORD})),
    ("POST", "/auth/login/form"): Endpoint(
        None, body=lambda _world: {"data": {"username": "owner", "password": PASSWORD}}),
    ("POST", "/auth/refresh"): Endpoint(ANY_ROLE, token_type="refresh"),
    ("POST", "/auth/logout"): Endpoint(ANY_ROLE),
    ("GET", "/auth/verify"): Endpoint(ANY_ROLE),
    ("GET", "/auth/me"): Endpoint(ANY_ROLE),
    ("POST", "/auth/register"): Endpoint(
        ADMIN_ONLY, ok=201,
        body=json({"username": "newcomer", "email": "newcomer@example.com", "password": PASSWORD})),
    ("GET", "/auth/users"): Endpoint(ADMIN_ONLY),
    ("GET", "/auth/users/{id}"): Endpoint(
        self_or_admin("Forbidden. You can only view your own profile."), ids=("owner",)),
    ("PUT", "/auth/users/{id}"): Endpoint(
        self_or_admin("Forbidden. You can only update your own profile."), ids=("owner",),
        body=json({"email": "owner-new@example.com"})),
    ("DELETE", "/auth/users/{id}"): Endpoint(ADMIN_ONLY, ids=("owner",)),
    ("GET", "/auth/users/{id}/preferences"): Endpoint(
        self_or_admin("Forbidden: Cannot access other users preferences"), ids=("owner",)),
    ("PUT", "/auth/users/{id}/preferences"): Endpoint(
        self_or_admin("Forbidden: Cannot update other users preferences"), ids=("owner",),
        body=json({"daily_digest": True})),
    ("GET", "/auth/users/{id}/ui-preferences"): Endpoint(
        self_or_admin("Forbidden: Cannot access other users preferences"), ids=("owner",)),
    ("PUT", "/auth/users/{id}/ui-preferences"): Endpoint(
        self_or_admin("Forbidden: Cannot update other users preferences"), ids=("owner",),
        body=json({"jobs_table_columns": {}})),
    ("GET", "/jobs"): Endpoint(ANY_ROLE),
    ("POST", "/jobs"): Endpoint(WRITERS, ok=201, body=new_job),
    ("GET", "/jobs/{id}"): Endpoint(ANY_ROLE, ids=("job",)),
    ("PUT", "/jobs/{id}"): Endpoint(owner_or_admin("update"), ids=("job",),
                                    body=json({"cron_expression": "0 3 * * *"})),
    ("DELETE", "/jobs/{id}"): Endpoint(owner_or_admin("delete"), ids=("job",)),
    # The target refuses connections at once: a failed run, still 200 (4.6).
    ("POST", "/jobs/{id}/execute"): Endpoint(EXECUTE, ids=("job",)),
    ("POST", "/jobs/bulk-upload"): Endpoint(WRITERS, body=csv_upload),
    ("POST", "/jobs/validate-cron"): Endpoint(ANY_ROLE, body=json(CRON)),
    ("POST", "/jobs/cron-preview"): Endpoint(ANY_ROLE, body=json({**CRON, "count": 1})),
    ("POST", "/jobs/test-run"): Endpoint(
        WRITERS, body=json({"target_url": "http://127.0.0.1:9/hook", "timeout_seconds": 1})),
    ("POST", "/jobs/cron-description"): Endpoint(ANY_ROLE, body=json(CRON)),
    ("GET", "/jobs/{id}/executions"): Endpoint(ANY_ROLE, ids=("job",)),
    ("GET", "/jobs/{id}/executions/stats"): Endpoint(ANY_ROLE, ids=("job",)),
    ("GET", "/jobs/{id}/executions/{execution_id}"): Endpoint(ANY_ROLE, ids=("job", "execution")),
    ("GET", "/executions"): Endpoint(ANY_ROLE),
    ("GET", "/executions/statistics"): Endpoint(ANY_ROLE),
    ("GET", "/executions/{id}"): Endpoint(ANY_ROLE, ids=("execution",)),
    ("GET", "/job-categories"): Endpoint(ANY_ROLE),
    ("POST", "/job-categories"): Endpoint(ADMIN_ONLY, ok=201, body=json({"name": "Brand New"})),
    ("PUT", "/job-categories/{id}"): Endpoint(ADMIN_ONLY, ids=("category",), body=json({"is_active": False})),
    ("DELETE", "/job-categories/{id}"): Endpoint(ADMIN_ONLY, ids=("category",)),
    ("GET", "/pic-teams"): Endpoint(ANY_ROLE),
    ("POST", "/pic-teams"): Endpoint(ADMIN_ONLY, ok=201, body=json({"name": "Team B", "slack_handle": "@b"})),
    ("PUT", "/pic-teams/{id}"): Endpoint(ADMIN_ONLY, ids=("team",), body=json({"slack_handle": "@a"})),
    ("DELETE", "/pic-teams/{id}"): Endpoint(ADMIN_ONLY, ids=("team",)),
    ("GET", "/notifications"): Endpoint(ANY_ROLE),
    ("GET", "/notifications/unread-count"): Endpoint(ANY_ROLE),
    ("PUT", "/notifications/{id}/read"): Endpoint(
        own_notification("Forbidden: Cannot access other users notifications"), ids=("notification",)),
    ("PUT", "/notifications/read-all"): Endpoint(ANY_ROLE),
    ("DELETE", "/notifications/{id}"): Endpoint(
        own_notification("Forbidden: Cannot delete other users notifications"), ids=("notification",)),
    ("DELETE", "/notifications/delete-read"): Endpoint(ANY_ROLE),
    ("GET", "/settings/slack"): Endpoint(ADMIN_ONLY),
    ("PUT", "/settings/slack"): Endpoint(ADMIN_ONLY, body=json({"is_enabled": False})),
    ("GET", "/scheduler/status"): Endpoint(ADMIN_ONLY),
    # Past the gate, an admin meets 6.11's 409: test processes run no scheduler.
    ("POST", "/scheduler/resync"): Endpoint(
        ADMIN_ONLY, ok=409,
        ok_body={"error": "Scheduler not leader", "message": "Scheduler is not running as leader in this process."}),
}


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # as the contract writes it (canonical or alias)
    canonical: str
    prefixed: bool = True  # False: the un-prefixed /health alias


def contract_routes() -> list[Route]:
    routes = []
    for method, path, aliases, unprefixed in table_rows():
        routes.append(Route(method, path, path))
        routes.extend(Route(method, alias, path) for alias in aliases)
        if unprefixed:
            routes.append(Route(method, path, path, prefixed=False))
    return routes


def expectation(route: Route, principal: str) -> tuple[int, dict[str, Any] | None]:
    """The contract's (status, exact body or None) for this principal on this route."""
    endpoint = ENDPOINTS[(route.method, route.canonical)]
    if endpoint.denials is None:
        return endpoint.ok, endpoint.ok_body
    if principal == "anonymous":
        return 401, ANONYMOUS_BODY
    if principal in endpoint.denials:
        return 403, endpoint.denials[principal]
    return endpoint.ok, endpoint.ok_body


def cases() -> list[Any]:
    params = []
    for route in contract_routes():
        for principal in PRINCIPALS:
            if (route.method, route.canonical) not in ENDPOINTS:
                continue  # reported by test_request_table_covers_every_contract_row
            status = expectation(route, principal)[0]
            where = route.path if route.prefixed else f"unprefixed{route.path}"
            params.append(pytest.param(route, principal, id=f"{route.method}_{where}_as_{principal}_is_{status}"))
    return params


def test_request_table_covers_every_contract_row() -> None:
    contract = {(method, normalize(path)) for method, path, _aliases, _unprefixed in table_rows()}
    table = {(method, normalize(path)) for method, path in ENDPOINTS}
    assert len(contract) == 51
    assert contract - table == set(), "endpoints in the contract without a request builder"
    assert table - contract == set(), "request builders for endpoints the contract doesn't list"


def test_matrix_includes_every_alias_route() -> None:
    routes = contract_routes()
    assert len([route for route in routes if route.path != route.canonical]) == 13
    assert len([route for route in routes if not route.prefixed]) == 1


@dataclass
class Door:
    http: httpx.Client
    prefix: str


@pytest.fixture(scope="module")
def world_db(migrated_template: Path | str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, World]]:
    """One seeded SQLite database for the module, and its snapshot."""
    if not isinstance(migrated_template, Path):
        pytest.skip("the access matrix restores a SQLite snapshot between cases")
    path = tmp_path_factory.mktemp("matrix") / "matrix.db"
    shutil.copyfile(migrated_template, path)
    settings = make_settings(f"sqlite:///{path}")
    engine = create_sync_engine_from_settings(settings)
    session = make_session_factory(engine)()
    try:
        world = seed(Factory(session, settings), settings)
    finally:
        session.close()
        engine.dispose()
    snapshot = Snapshot(str(path))
    yield (settings, snapshot), world
    snapshot.close()


def seed(factory: Factory, settings: Any) -> World:
    admin = factory.user("admin", username="admin")
    owner = factory.user("user", username="owner")
    other = factory.user("user", username="other")
    viewer = factory.user("viewer", username="viewer")
    team = factory.team("Team A", slug="team-a", slack_handle="@team-a")
    category = factory.category("Nightly")
    end = local_today(settings.scheduler_tz) + timedelta(days=60)
    job = factory.job(owner, name="owner-job", end_date=end)
    execution = factory.execution(job)
    notification = factory.notification(owner)
    principals = {"admin": admin, "user": owner, "other": other, "viewer": viewer}
    return World(
        ids={"owner": owner.id, "job": job.id, "execution": execution.id, "notification": notification.id,
             "team": team.id, "category": category.id},
        access={name: factory.token(person) for name, person in principals.items()},
        refresh={name: factory.token(person, "refresh") for name, person in principals.items()},
        end_date=end.isoformat(),
    )


@pytest.fixture(scope="module", params=list(DOORS))
def door(request: pytest.FixtureRequest, world_db: tuple[Any, World]) -> Iterator[Door]:
    (settings, _snapshot), _world = world_db
    with DOORS[request.param](settings) as http:
        yield Door(http, request.param)


@pytest.fixture
def world(world_db: tuple[Any, World]) -> Iterator[World]:
    (_settings, snapshot), seeded = world_db
    yield seeded
    snapshot.restore()  # undo whatever the case changed (deleted rows, revoked tokens, ...)


@pytest.mark.parametrize(("route", "principal"), cases())
def test_access(door: Door, world: World, route: Route, principal: str) -> None:
    endpoint = ENDPOINTS[(route.method, route.canonical)]
    ids = iter(world.ids[key] for key in endpoint.ids)
    path = re.sub(r"\{[^}]+\}", lambda _match: next(ids), route.path)
    url = (door.prefix if route.prefixed else "") + path
    headers = {}
    if principal != "anonymous":
        tokens = world.refresh if endpoint.token_type == "refresh" else world.access
        headers["Authorization"] = f"Bearer {tokens[principal]}"

    response = door.http.request(route.method, url, headers=headers, **endpoint.body(world))

    status, body = expectation(route, principal)
    assert response.status_code == status, response.text
    if body is not None:
        assert response.json() == body

"""PIC teams (contract 6.5-6.8, 7.6)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from src.models import Job, PicTeam, User
from tests.api.conftest import ApiClient
from tests.conftest import Factory

INSTANT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
ROLE_GATE = {"error": "Insufficient permissions", "message": "This endpoint requires one of the following roles: admin"}
SLUG_KEY = {"error": "Invalid payload", "message": "Slug cannot be edited directly; it is derived from name."}


@pytest.fixture
def admin_token(factory: Factory, admin: User) -> str:
    return factory.token(admin)


def _team(db: Session, slug: str) -> PicTeam | None:
    db.expire_all()
    return db.scalar(select(PicTeam).where(PicTeam.slug == slug))


def _not_found(team_id: str) -> dict[str, str]:
    return {"error": "Not found", "message": f"No PIC team found with ID: {team_id}"}


# --- list -----------------------------------------------------------------------------------


def test_list_returns_active_teams_ordered_by_lower_name(api: ApiClient, factory: Factory, viewer: User) -> None:
    factory.team("beta"), factory.team("Alpha"), factory.team("Gamma", is_active=False)
    response = api.get("/pic-teams", token=factory.token(viewer))
    assert response.status_code == 200
    assert [t["name"] for t in response.json()["pic_teams"]] == ["Alpha", "beta"]


def test_list_items_have_the_team_shape(api: ApiClient, factory: Factory, team: PicTeam, user: User) -> None:
    item = api.get("/pic-teams", token=factory.token(user)).json()["pic_teams"][0]
    assert item["slug"] == "team-a" and item["slack_handle"] == "@team-a" and item["is_active"] is True
    assert item["id"] == team.id
    assert INSTANT.fullmatch(item["created_at"]) and INSTANT.fullmatch(item["updated_at"])


def test_list_include_inactive_is_honoured_for_admins(api: ApiClient, factory: Factory, admin_token: str) -> None:
    factory.team("Gamma", is_active=False)
    teams = api.get("/pic-teams?include_inactive=1", token=admin_token).json()["pic_teams"]
    assert [t["slug"] for t in teams] == ["gamma"]


@pytest.mark.parametrize("role", ["user", "viewer"])
def test_list_include_inactive_is_ignored_for_non_admins(api: ApiClient, factory: Factory, role: str) -> None:
    factory.team("Gamma", is_active=False)
    teams = api.get("/pic-teams?include_inactive=true", token=factory.token(factory.user(role))).json()["pic_teams"]
    assert teams == []


def test_list_alias_teams_answers_the_same(api: ApiClient, factory: Factory, team: PicTeam, user: User) -> None:
    token = factory.token(user)
    assert api.get("/teams", token=token).json() == api.get("/pic-teams", token=token).json()


# --- create ---------------------------------------------------------------------------------


def test_create_team(api: ApiClient, admin_token: str, db: Session) -> None:
    response = api.post("/pic-teams", token=admin_token, json={"name": " QA Team ", "slack_handle": " @qa "})
    assert response.status_code == 201
    body = response.json()
    assert body["message"] == "PIC team created"
    assert body["pic_team"]["slug"] == "qa-team"
    assert body["pic_team"]["name"] == "QA Team"
    assert body["pic_team"]["slack_handle"] == "@qa"
    assert body["pic_team"]["is_active"] is True
    assert _team(db, "qa-team") is not None


def test_create_with_explicit_slug_and_alias(api: ApiClient, admin_token: str) -> None:
    response = api.post("/teams", token=admin_token,
                        json={"name": "QA", "slug": "Quality Crew", "slack_handle": "<!subteam^S1>"})
    assert response.status_code == 201
    assert response.json()["pic_team"]["slug"] == "quality-crew"


def test_create_without_name_is_400(api: ApiClient, admin_token: str) -> None:
    response = api.post("/pic-teams", token=admin_token, json={"name": " ", "slack_handle": "@x"})
    assert response.status_code == 400
    assert response.json() == {"error": "Missing required fields", "message": '"name" is required.'}


def test_create_unsluggable_is_400(api: ApiClient, admin_token: str) -> None:
    response = api.post("/pic-teams", token=admin_token, json={"name": "---", "slack_handle": "@x"})
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid slug", "message": "Unable to generate a valid slug from name."}


def test_create_duplicate_slug_is_409(api: ApiClient, team: PicTeam, admin_token: str) -> None:
    response = api.post("/pic-teams", token=admin_token, json={"name": "Team-A", "slack_handle": "@x"})
    assert response.status_code == 409
    assert response.json() == {"error": "Duplicate slug", "message": 'PIC team slug "team-a" already exists.'}


def test_create_duplicate_is_checked_before_slack_handle(api: ApiClient, team: PicTeam, admin_token: str) -> None:
    response = api.post("/pic-teams", token=admin_token, json={"name": "Team A"})
    assert response.status_code == 409


@pytest.mark.parametrize("handle", [None, "", "   "])
def test_create_without_slack_handle_is_400(api: ApiClient, admin_token: str, db: Session, handle: object) -> None:
    body: dict[str, object] = {"name": "QA"}
    if handle is not None:
        body["slack_handle"] = handle
    response = api.post("/pic-teams", token=admin_token, json=body)
    assert response.status_code == 400
    assert response.json() == {"error": "Missing required fields", "message": '"slack_handle" is required.'}
    assert _team(db, "qa") is None


@pytest.mark.parametrize("role", ["user", "viewer"])
def test_create_by_non_admin_is_403(api: ApiClient, factory: Factory, role: str) -> None:
    response = api.post(
        "/pic-teams", token=factory.token(factory.user(role)), json={"name": "QA", "slack_handle": "@q"}
    )
    assert response.status_code == 403
    assert response.json() == ROLE_GATE


def test_create_with_wrong_content_type_is_400(api: ApiClient, admin_token: str, db: Session) -> None:
    response = api.post("/pic-teams", token=admin_token, content=b'{"name":"QA","slack_handle":"@q"}',
                        headers={"Content-Type": "text/plain"})
    assert response.status_code == 400
    assert response.json() == {"error": "Content-Type must be application/json"}
    assert _team(db, "qa") is None


def test_create_with_non_object_json_is_400(api: ApiClient, admin_token: str) -> None:
    response = api.post("/pic-teams", token=admin_token, json="QA")
    assert response.json() == {"error": "Invalid payload", "message": "JSON body must be an object."}


# --- update ---------------------------------------------------------------------------------


def test_rename_rewrites_jobs_pic_team(api: ApiClient, factory: Factory, team: PicTeam, admin: User,
                                       admin_token: str, db: Session) -> None:
    jobs = [factory.job(admin, pic_team="team-a") for _ in range(3)]
    other = factory.job(admin, pic_team="other")
    response = api.put(
        f"/pic-teams/{team.id}", token=admin_token, json={"name": "Team Alpha", "slack_handle": "@alpha"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "PIC team updated"
    assert body["jobs_updated"] == 3
    assert body["pic_team"]["slug"] == "team-alpha"
    assert body["pic_team"]["slack_handle"] == "@alpha"
    db.expire_all()
    assert {db.get(Job, j.id).pic_team for j in jobs} == {"team-alpha"}  # type: ignore[union-attr]  # None here fails the test, as it should
    assert db.get(Job, other.id).pic_team == "other"  # type: ignore[union-attr]  # None here fails the test, as it should


def test_rename_via_alias(api: ApiClient, team: PicTeam, admin_token: str) -> None:
    response = api.put(f"/teams/{team.id}", token=admin_token, json={"name": "Team B"})
    assert response.status_code == 200
    assert response.json()["pic_team"]["slug"] == "team-b"


def test_disable_via_update_leaves_jobs_alone(api: ApiClient, factory: Factory, team: PicTeam, admin: User,
                                              admin_token: str, db: Session) -> None:
    job = factory.job(admin, pic_team="team-a")
    response = api.put(f"/pic-teams/{team.id}", token=admin_token, json={"is_active": 0})
    assert response.status_code == 200
    assert response.json()["pic_team"]["is_active"] is False
    assert response.json()["jobs_updated"] == 0
    db.expire_all()
    assert db.get(Job, job.id).pic_team == "team-a"  # type: ignore[union-attr]  # None here fails the test, as it should


def test_update_unknown_team_is_404(api: ApiClient, admin_token: str) -> None:
    response = api.put("/pic-teams/missing", token=admin_token, json={"is_active": True})
    assert response.status_code == 404
    assert response.json() == _not_found("missing")


def test_update_blank_name_is_400(api: ApiClient, team: PicTeam, admin_token: str) -> None:
    response = api.put(f"/pic-teams/{team.id}", token=admin_token, json={"name": ""})
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid name", "message": "Name cannot be empty."}


def test_rename_onto_existing_slug_is_409(api: ApiClient, factory: Factory, team: PicTeam, admin_token: str,
                                         db: Session) -> None:
    factory.team("Team B")
    response = api.put(f"/pic-teams/{team.id}", token=admin_token, json={"name": "team b", "is_active": False})
    assert response.status_code == 409
    assert response.json() == {"error": "Duplicate slug", "message": 'PIC team slug "team-b" already exists.'}
    assert _team(db, "team-a").is_active is True  # type: ignore[union-attr]  # None here fails the test, as it should


def test_slug_key_is_400_after_name_checks(api: ApiClient, team: PicTeam, admin_token: str, db: Session) -> None:
    response = api.put(f"/pic-teams/{team.id}", token=admin_token, json={"name": "Team Z", "slug": "z"})
    assert response.status_code == 400
    assert response.json() == SLUG_KEY
    assert _team(db, "team-a") is not None


@pytest.mark.parametrize("handle", ["", "  ", None])
def test_blank_slack_handle_is_400_and_nothing_changes(
    api: ApiClient, factory: Factory, team: PicTeam, admin: User, admin_token: str, db: Session, handle: object
) -> None:
    job = factory.job(admin, pic_team="team-a")
    response = api.put(f"/pic-teams/{team.id}", token=admin_token,
                       json={"name": "Team Q", "is_active": False, "slack_handle": handle})
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid slack_handle", "message": "slack_handle cannot be empty."}
    row = _team(db, "team-a")
    assert row is not None and row.is_active is True and row.slack_handle == "@team-a"
    assert db.get(Job, job.id).pic_team == "team-a"  # type: ignore[union-attr]  # None here fails the test, as it should


def test_slug_key_is_checked_before_slack_handle(api: ApiClient, team: PicTeam, admin_token: str) -> None:
    response = api.put(f"/pic-teams/{team.id}", token=admin_token, json={"slug": "x", "slack_handle": ""})
    assert response.json() == SLUG_KEY


def test_update_by_viewer_is_403(api: ApiClient, factory: Factory, team: PicTeam, viewer: User) -> None:
    response = api.put(f"/pic-teams/{team.id}", token=factory.token(viewer), json={"is_active": False})
    assert response.status_code == 403
    assert response.json() == ROLE_GATE


def test_update_malformed_json_is_400_before_404(api: ApiClient, admin_token: str) -> None:
    response = api.put("/pic-teams/missing", token=admin_token, content=b"nope",
                       headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid JSON", "message": "Request body is not valid JSON."}


# --- delete ---------------------------------------------------------------------------------


def test_delete_disables_team(api: ApiClient, factory: Factory, team: PicTeam, admin: User, admin_token: str,
                              db: Session) -> None:
    job = factory.job(admin, pic_team="team-a")
    response = api.delete(f"/pic-teams/{team.id}", token=admin_token)
    assert response.status_code == 200
    assert response.json()["message"] == "PIC team disabled"
    assert response.json()["pic_team"]["is_active"] is False
    assert _team(db, "team-a").is_active is False  # type: ignore[union-attr]  # None here fails the test, as it should
    assert db.get(Job, job.id).pic_team == "team-a"  # type: ignore[union-attr]  # None here fails the test, as it should


def test_delete_via_alias_is_idempotent(api: ApiClient, factory: Factory, admin_token: str) -> None:
    team = factory.team("Old", is_active=False)
    response = api.delete(f"/teams/{team.id}", token=admin_token)
    assert response.status_code == 200
    assert response.json()["pic_team"]["is_active"] is False


def test_delete_unknown_team_is_404(api: ApiClient, admin_token: str) -> None:
    response = api.delete("/pic-teams/missing", token=admin_token)
    assert response.status_code == 404
    assert response.json() == _not_found("missing")


def test_delete_by_user_is_403(api: ApiClient, factory: Factory, team: PicTeam, user: User) -> None:
    response = api.delete(f"/pic-teams/{team.id}", token=factory.token(user))
    assert response.status_code == 403
    assert response.json() == ROLE_GATE

"""Job categories (contract 6.1-6.4, 7.4, 7.6)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from src.models import Job, JobCategory, User
from tests.api.conftest import ApiClient
from tests.conftest import Factory

INSTANT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
ROLE_GATE = {"error": "Insufficient permissions", "message": "This endpoint requires one of the following roles: admin"}
SEEDED = ["Backward Compatibility", "DR Testing", "Feature Testing", "General", "Prod/Canary", "Refund", "Regression"]


@pytest.fixture
def admin_token(factory: Factory, admin: User) -> str:
    return factory.token(admin)


def _category(db: Session, slug: str) -> JobCategory | None:
    db.expire_all()
    return db.scalar(select(JobCategory).where(JobCategory.slug == slug))


def _not_found(category_id: str) -> dict[str, str]:
    return {"error": "Not found", "message": f"No category found with ID: {category_id}"}


# --- list -----------------------------------------------------------------------------------


def test_list_returns_active_categories_ordered_by_lower_name(api: ApiClient, factory: Factory, viewer: User) -> None:
    factory.category("alpha tests")
    response = api.get("/job-categories", token=factory.token(viewer))
    assert response.status_code == 200
    names = [c["name"] for c in response.json()["categories"]]
    assert names == sorted([*SEEDED, "alpha tests"], key=str.lower)


def test_list_items_have_the_category_shape(api: ApiClient, factory: Factory, user: User) -> None:
    item = api.get("/job-categories", token=factory.token(user)).json()["categories"][0]
    assert set(item) >= {"id", "slug", "name", "is_active", "created_at", "updated_at"}
    assert INSTANT.fullmatch(item["created_at"]) and INSTANT.fullmatch(item["updated_at"])


def test_list_include_inactive_is_honoured_for_admins(api: ApiClient, factory: Factory, admin_token: str) -> None:
    factory.category("Old Stuff", is_active=False)
    slugs = [
        c["slug"] for c in api.get("/job-categories?include_inactive=true", token=admin_token).json()["categories"]
    ]
    assert "old-stuff" in slugs


def test_list_hides_inactive_from_admins_by_default(api: ApiClient, factory: Factory, admin_token: str) -> None:
    factory.category("Old Stuff", is_active=False)
    slugs = [c["slug"] for c in api.get("/job-categories", token=admin_token).json()["categories"]]
    assert "old-stuff" not in slugs


@pytest.mark.parametrize("role", ["user", "viewer"])
def test_list_include_inactive_is_ignored_for_non_admins(api: ApiClient, factory: Factory, role: str) -> None:
    factory.category("Old Stuff", is_active=False)
    token = factory.token(factory.user(role))
    slugs = [c["slug"] for c in api.get("/job-categories?include_inactive=yes", token=token).json()["categories"]]
    assert "old-stuff" not in slugs


def test_list_alias_categories_answers_the_same(api: ApiClient, factory: Factory, user: User) -> None:
    token = factory.token(user)
    assert api.get("/categories", token=token).json() == api.get("/job-categories", token=token).json()


def test_list_requires_authentication(api: ApiClient) -> None:
    response = api.get("/job-categories")
    assert response.status_code == 401
    assert response.json() == {"error": "Authorization required", "message": "Missing Authorization Header"}


# --- create ---------------------------------------------------------------------------------


def test_create_derives_slug_from_name(api: ApiClient, admin_token: str, db: Session) -> None:
    response = api.post("/job-categories", token=admin_token, json={"name": "  Smoke Tests! "})
    assert response.status_code == 201
    body = response.json()
    assert body["message"] == "Category created"
    assert body["category"]["slug"] == "smoke-tests"
    assert body["category"]["name"] == "Smoke Tests!"
    assert body["category"]["is_active"] is True
    assert INSTANT.fullmatch(body["category"]["created_at"])
    assert _category(db, "smoke-tests") is not None


def test_create_uses_explicit_slug_slugified(api: ApiClient, admin_token: str) -> None:
    response = api.post("/job-categories", token=admin_token, json={"name": "Smoke", "slug": " My Slug "})
    assert response.status_code == 201
    assert response.json()["category"]["slug"] == "my-slug"


def test_create_blank_slug_falls_back_to_name(api: ApiClient, admin_token: str) -> None:
    response = api.post("/job-categories", token=admin_token, json={"name": "Smoke", "slug": "  "})
    assert response.json()["category"]["slug"] == "smoke"


def test_create_via_alias(api: ApiClient, admin_token: str) -> None:
    response = api.post("/categories", token=admin_token, json={"name": "Aliased"})
    assert response.status_code == 201
    assert response.json()["category"]["slug"] == "aliased"


def test_create_names_need_not_be_unique(api: ApiClient, admin_token: str) -> None:
    api.post("/job-categories", token=admin_token, json={"name": "Same", "slug": "same-1"})
    response = api.post("/job-categories", token=admin_token, json={"name": "Same", "slug": "same-2"})
    assert response.status_code == 201


@pytest.mark.parametrize("body", [{}, {"name": "   "}, {"name": None}, {"name": 12}])
def test_create_without_name_is_400(api: ApiClient, admin_token: str, body: dict[str, object]) -> None:
    response = api.post("/job-categories", token=admin_token, json=body)
    assert response.status_code == 400
    assert response.json() == {"error": "Missing required fields", "message": '"name" is required.'}


def test_create_with_unsluggable_name_is_400(api: ApiClient, admin_token: str) -> None:
    response = api.post("/job-categories", token=admin_token, json={"name": "日本語"})
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid slug", "message": "Unable to generate a valid slug from name."}


def test_create_duplicate_slug_is_409(api: ApiClient, admin_token: str) -> None:
    response = api.post("/job-categories", token=admin_token, json={"name": "REGRESSION"})
    assert response.status_code == 409
    assert response.json() == {"error": "Duplicate slug", "message": 'Category slug "regression" already exists.'}


def test_create_duplicate_of_disabled_slug_is_409(api: ApiClient, factory: Factory, admin_token: str) -> None:
    factory.category("Retired", is_active=False)
    assert api.post("/job-categories", token=admin_token, json={"name": "Retired"}).status_code == 409


def test_create_missing_name_is_checked_before_slug(api: ApiClient, admin_token: str) -> None:
    response = api.post("/job-categories", token=admin_token, json={"slug": "regression"})
    assert response.json()["error"] == "Missing required fields"


@pytest.mark.parametrize("role", ["user", "viewer"])
def test_create_by_non_admin_is_403(api: ApiClient, factory: Factory, db: Session, role: str) -> None:
    response = api.post("/job-categories", token=factory.token(factory.user(role)), json={"name": "Nope"})
    assert response.status_code == 403
    assert response.json() == ROLE_GATE
    assert _category(db, "nope") is None


def test_create_role_gate_comes_before_body_checks(api: ApiClient, factory: Factory, user: User) -> None:
    response = api.post("/job-categories", token=factory.token(user), content=b"nope",
                        headers={"Content-Type": "text/plain"})
    assert response.status_code == 403


def test_create_with_wrong_content_type_is_400(api: ApiClient, admin_token: str, db: Session) -> None:
    response = api.post("/job-categories", token=admin_token, content=b'{"name": "X"}',
                        headers={"Content-Type": "text/plain"})
    assert response.status_code == 400
    assert response.json() == {"error": "Content-Type must be application/json"}
    assert _category(db, "x") is None


def test_create_with_malformed_json_is_400(api: ApiClient, admin_token: str) -> None:
    response = api.post("/job-categories", token=admin_token, content=b'{"name": ',
                        headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid JSON", "message": "Request body is not valid JSON."}


def test_create_with_non_object_json_is_400(api: ApiClient, admin_token: str) -> None:
    response = api.post("/job-categories", token=admin_token, json=["name"])
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid payload", "message": "JSON body must be an object."}


# --- update ---------------------------------------------------------------------------------


def test_rename_rewrites_jobs_using_the_old_slug(
    api: ApiClient, factory: Factory, admin: User, admin_token: str, db: Session
) -> None:
    category = factory.category("Smoke")
    moved = [factory.job(admin, category="smoke"), factory.job(admin, category="smoke")]
    other = factory.job(admin, category="regression")
    response = api.put(f"/job-categories/{category.id}", token=admin_token, json={"name": "Smoke Suite"})
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Category updated"
    assert body["jobs_updated"] == 2
    assert body["category"]["slug"] == "smoke-suite"
    assert body["category"]["name"] == "Smoke Suite"
    db.expire_all()
    assert {db.get(Job, job.id).category for job in moved} == {"smoke-suite"}  # type: ignore[union-attr]  # None here fails the test, as it should
    assert db.get(Job, other.id).category == "regression"  # type: ignore[union-attr]  # None here fails the test, as it should


def test_rename_via_alias(api: ApiClient, factory: Factory, admin_token: str) -> None:
    category = factory.category("Smoke")
    response = api.put(f"/categories/{category.id}", token=admin_token, json={"name": "Smoked"})
    assert response.status_code == 200
    assert response.json()["category"]["slug"] == "smoked"


def test_rename_keeping_the_slug_reports_zero_jobs(api: ApiClient, factory: Factory, admin: User,
                                                   admin_token: str) -> None:
    category = factory.category("Smoke")
    factory.job(admin, category="smoke")
    response = api.put(f"/job-categories/{category.id}", token=admin_token, json={"name": "SMOKE"})
    assert response.json()["jobs_updated"] == 0
    assert response.json()["category"]["name"] == "SMOKE"


def test_toggle_reports_zero_jobs_and_leaves_jobs_alone(
    api: ApiClient, factory: Factory, admin: User, admin_token: str, db: Session
) -> None:
    category = factory.category("Smoke")
    job = factory.job(admin, category="smoke")
    response = api.put(f"/job-categories/{category.id}", token=admin_token, json={"is_active": False})
    assert response.status_code == 200
    assert response.json()["jobs_updated"] == 0
    assert response.json()["category"]["is_active"] is False
    db.expire_all()
    assert db.get(Job, job.id).category == "smoke"  # type: ignore[union-attr]  # None here fails the test, as it should


def test_is_active_uses_json_truthiness(api: ApiClient, factory: Factory, admin_token: str) -> None:
    category = factory.category("Smoke", is_active=False)
    response = api.put(f"/job-categories/{category.id}", token=admin_token, json={"is_active": "false"})
    assert response.json()["category"]["is_active"] is True


def test_update_unknown_category_is_404(api: ApiClient, admin_token: str) -> None:
    response = api.put("/job-categories/nonexistent", token=admin_token, json={"name": "X"})
    assert response.status_code == 404
    assert response.json() == _not_found("nonexistent")


def test_update_body_is_checked_before_404(api: ApiClient, admin_token: str) -> None:
    response = api.put("/job-categories/nonexistent", token=admin_token, content=b"{",
                       headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"] == "Invalid JSON"


def test_update_role_gate_comes_before_404(api: ApiClient, factory: Factory, viewer: User) -> None:
    response = api.put("/job-categories/nonexistent", token=factory.token(viewer), json={"name": "X"})
    assert response.status_code == 403
    assert response.json() == ROLE_GATE


@pytest.mark.parametrize("name", ["", "   ", None])
def test_update_blank_name_is_400(api: ApiClient, factory: Factory, admin_token: str, name: object) -> None:
    category = factory.category("Smoke")
    response = api.put(f"/job-categories/{category.id}", token=admin_token, json={"name": name})
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid name", "message": "Name cannot be empty."}


def test_general_cannot_be_renamed(api: ApiClient, admin_token: str, db: Session) -> None:
    general = _category(db, "general")
    assert general is not None
    response = api.put(f"/job-categories/{general.id}", token=admin_token, json={"name": "Generic"})
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid category", "message": 'The "General" category cannot be renamed.'}
    assert _category(db, "general").name == "General"  # type: ignore[union-attr]  # None here fails the test, as it should


def test_general_accepts_its_current_name_and_a_toggle(api: ApiClient, admin_token: str, db: Session) -> None:
    general = _category(db, "general")
    response = api.put(f"/job-categories/{general.id}", token=admin_token,  # type: ignore[union-attr]  # None here fails the test, as it should
                       json={"name": "General", "is_active": False})
    assert response.status_code == 200
    assert response.json()["category"]["is_active"] is False


def test_blank_name_is_checked_before_the_general_rule(api: ApiClient, admin_token: str, db: Session) -> None:
    general = _category(db, "general")
    response = api.put(f"/job-categories/{general.id}", token=admin_token, json={"name": " "})  # type: ignore[union-attr]  # None here fails the test, as it should
    assert response.json()["error"] == "Invalid name"


def test_rename_to_unsluggable_name_is_400(api: ApiClient, factory: Factory, admin_token: str) -> None:
    category = factory.category("Smoke")
    response = api.put(f"/job-categories/{category.id}", token=admin_token, json={"name": "!!!"})
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid slug", "message": "Unable to generate a valid slug from name."}


def test_rename_onto_existing_slug_is_409_and_changes_nothing(
    api: ApiClient, factory: Factory, admin: User, admin_token: str, db: Session
) -> None:
    category = factory.category("Smoke")
    job = factory.job(admin, category="smoke")
    response = api.put(f"/job-categories/{category.id}", token=admin_token,
                       json={"name": "Regression", "is_active": False})
    assert response.status_code == 409
    assert response.json() == {"error": "Duplicate slug", "message": 'Category slug "regression" already exists.'}
    row = _category(db, "smoke")
    assert row is not None and row.is_active is True and row.name == "Smoke"
    assert db.get(Job, job.id).category == "smoke"  # type: ignore[union-attr]  # None here fails the test, as it should


def test_duplicate_slug_is_checked_before_the_slug_key(api: ApiClient, factory: Factory, admin_token: str) -> None:
    category = factory.category("Smoke")
    response = api.put(f"/job-categories/{category.id}", token=admin_token, json={"name": "Regression", "slug": "x"})
    assert response.status_code == 409


@pytest.mark.parametrize("slug", ["new-slug", None, ""])
def test_slug_key_is_400_and_nothing_changes(
    api: ApiClient, factory: Factory, admin: User, admin_token: str, db: Session, slug: object
) -> None:
    category = factory.category("Smoke")
    job = factory.job(admin, category="smoke")
    response = api.put(f"/job-categories/{category.id}", token=admin_token,
                       json={"name": "Renamed", "slug": slug, "is_active": False})
    assert response.status_code == 400
    assert response.json() == {
        "error": "Invalid payload",
        "message": "Slug cannot be edited directly; it is derived from name.",
    }
    row = _category(db, "smoke")
    assert row is not None and row.name == "Smoke" and row.is_active is True
    assert db.get(Job, job.id).category == "smoke"  # type: ignore[union-attr]  # None here fails the test, as it should


def test_update_by_user_is_403(api: ApiClient, factory: Factory, user: User) -> None:
    category = factory.category("Smoke")
    response = api.put(f"/job-categories/{category.id}", token=factory.token(user), json={"is_active": False})
    assert response.status_code == 403
    assert response.json() == ROLE_GATE


# --- delete ---------------------------------------------------------------------------------


def test_delete_disables_without_touching_jobs(
    api: ApiClient, factory: Factory, admin: User, admin_token: str, db: Session
) -> None:
    category = factory.category("Smoke")
    job = factory.job(admin, category="smoke")
    response = api.delete(f"/job-categories/{category.id}", token=admin_token)
    assert response.status_code == 200
    assert response.json()["message"] == "Category disabled"
    assert response.json()["category"]["is_active"] is False
    row = _category(db, "smoke")
    assert row is not None and row.is_active is False
    assert db.get(Job, job.id).category == "smoke"  # type: ignore[union-attr]  # None here fails the test, as it should


def test_delete_is_idempotent_and_available_on_alias(api: ApiClient, factory: Factory, admin_token: str) -> None:
    category = factory.category("Smoke", is_active=False)
    response = api.delete(f"/categories/{category.id}", token=admin_token)
    assert response.status_code == 200
    assert response.json()["category"]["is_active"] is False


def test_delete_unknown_category_is_404(api: ApiClient, admin_token: str) -> None:
    response = api.delete("/job-categories/nope", token=admin_token)
    assert response.status_code == 404
    assert response.json() == _not_found("nope")


@pytest.mark.parametrize("role", ["user", "viewer"])
def test_delete_by_non_admin_is_403_before_404(api: ApiClient, factory: Factory, role: str) -> None:
    response = api.delete("/job-categories/nope", token=factory.token(factory.user(role)))
    assert response.status_code == 403
    assert response.json() == ROLE_GATE

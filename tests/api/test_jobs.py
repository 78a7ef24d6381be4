"""Jobs CRUD (contract 4.1–4.5, 7.1, 7.3, 7.5, 8.5) through each door."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from src.config import Settings
from src.core.clock import local_today
from src.models import Job, JobDeletion, JobExecution, Notification, User
from tests.api.conftest import ApiClient
from tests.conftest import Factory

LOCAL_INSTANT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+09:00")
UTC_INSTANT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
JOB_KEYS = {
    "id", "name", "cron_expression", "target_url", "github_owner", "github_repo",
    "github_workflow_name", "metadata", "category", "end_date", "pic_team",
    "enable_email_notifications", "notification_emails", "notify_on_success", "created_by",
    "is_active", "created_at", "updated_at", "last_execution_at", "next_execution_at",
}
EXPIRED_BODY = {
    "error": "Job expired",
    "message": "Job cannot be enabled after end_date has passed. Update end_date first.",
}


def today(settings: Settings) -> date:
    return local_today(settings.scheduler_tz)


def future(settings: Settings, days: int = 30) -> str:
    return (today(settings) + timedelta(days=days)).isoformat()


@pytest.fixture
def body(settings: Settings, team: Any) -> dict[str, Any]:
    """A valid create body (webhook target, team-a)."""
    return {
        "name": "Nightly regression",
        "cron_expression": "0 2 * * *",
        "end_date": future(settings),
        "pic_team": "team-a",
        "target_url": "https://hooks.example.com/run",
    }


@pytest.fixture
def admin_token(factory: Factory, admin: User) -> str:
    return factory.token(admin)


@pytest.fixture
def user_token(factory: Factory, user: User) -> str:
    return factory.token(user)


@pytest.fixture
def viewer_token(factory: Factory, viewer: User) -> str:
    return factory.token(viewer)


def notifications(db: Session, title: str | None = None) -> list[Notification]:
    db.expire_all()
    query = select(Notification)
    if title is not None:
        query = query.where(Notification.title == title)
    return list(db.scalars(query))


def stored_job(db: Session, job_id: str) -> Job:
    db.expire_all()
    job = db.get(Job, job_id)
    assert job is not None
    return job


# --- GET /jobs, GET /jobs/{id} -------------------------------------------------------------


def test_list_jobs_returns_count_and_jobs_newest_first(
    api: ApiClient, factory: Factory, user: User, viewer_token: str
) -> None:
    older = factory.job(user, created_at=datetime(2025, 1, 1))
    newer = factory.job(user, created_at=datetime(2025, 6, 1))
    response = api.get("/jobs", token=viewer_token)
    assert response.status_code == 200
    assert response.json()["count"] == 2
    assert [job["id"] for job in response.json()["jobs"]] == [newer.id, older.id]


def test_list_jobs_requires_authentication(api: ApiClient) -> None:
    response = api.get("/jobs")
    assert response.status_code == 401
    assert response.json()["error"] == "Authorization required"


def test_job_representation_has_every_contract_key(
    api: ApiClient, factory: Factory, user: User, viewer_token: str
) -> None:
    job = factory.job(user, created_at=datetime(2025, 12, 22, 10, 30, 0, 123000))
    rendered = api.get(f"/jobs/{job.id}", token=viewer_token).json()["job"]
    assert set(rendered) >= JOB_KEYS
    assert rendered["created_at"] == "2025-12-22T10:30:00.123Z"
    assert UTC_INSTANT.fullmatch(rendered["updated_at"])
    assert rendered["created_by"] == user.id
    assert rendered["end_date"] == job.end_date.isoformat()


def test_last_execution_at_is_the_latest_started_at(
    api: ApiClient, factory: Factory, user: User, viewer_token: str
) -> None:
    job = factory.job(user)
    factory.execution(job, started_at=datetime(2025, 12, 22, 17, 0, 0, 123000))
    factory.execution(job, started_at=datetime(2025, 12, 20, 1, 0, 0))
    other = factory.job(user)
    listed = {j["id"]: j for j in api.get("/jobs", token=viewer_token).json()["jobs"]}
    assert listed[job.id]["last_execution_at"] == "2025-12-22T17:00:00.123Z"
    assert listed[other.id]["last_execution_at"] is None


def test_metadata_is_an_empty_object_when_stored_text_is_invalid(
    api: ApiClient, factory: Factory, user: User, viewer_token: str
) -> None:
    broken = factory.job(user, job_metadata="{not json")
    empty = factory.job(user, job_metadata=None)
    assert api.get(f"/jobs/{broken.id}", token=viewer_token).json()["job"]["metadata"] == {}
    assert api.get(f"/jobs/{empty.id}", token=viewer_token).json()["job"]["metadata"] == {}


def test_notification_emails_are_returned_as_a_trimmed_list(
    api: ApiClient, factory: Factory, user: User, viewer_token: str
) -> None:
    job = factory.job(user, enable_email_notifications=True, notification_emails=" a@x.com, ,b@x.com ")
    rendered = api.get(f"/jobs/{job.id}", token=viewer_token).json()["job"]
    assert rendered["notification_emails"] == ["a@x.com", "b@x.com"]


def test_next_execution_at_is_the_next_fire_in_scheduler_time_with_offset(
    api: ApiClient, factory: Factory, user: User, viewer_token: str
) -> None:
    job = factory.job(user, cron_expression="0 2 * * *")
    before = datetime.now(UTC)
    value = api.get(f"/jobs/{job.id}", token=viewer_token).json()["job"]["next_execution_at"]
    assert LOCAL_INSTANT.fullmatch(value)
    fire = datetime.fromisoformat(value)
    assert (fire.hour, fire.minute) == (2, 0)
    assert before - timedelta(minutes=1) <= fire <= before + timedelta(days=1)


def test_next_execution_at_is_null_for_an_inactive_job(
    api: ApiClient, factory: Factory, user: User, viewer_token: str
) -> None:
    job = factory.job(user, is_active=False)
    assert api.get(f"/jobs/{job.id}", token=viewer_token).json()["job"]["next_execution_at"] is None


def test_next_execution_at_is_null_for_a_cron_that_never_fires(
    api: ApiClient, factory: Factory, user: User, viewer_token: str
) -> None:
    job = factory.job(user, cron_expression="0 0 31 2 *")
    assert api.get(f"/jobs/{job.id}", token=viewer_token).json()["job"]["next_execution_at"] is None


def test_next_execution_at_is_null_for_an_unparseable_stored_cron(
    api: ApiClient, factory: Factory, user: User, viewer_token: str
) -> None:
    job = factory.job(user, cron_expression="@daily")
    rendered = api.get(f"/jobs/{job.id}", token=viewer_token).json()["job"]
    assert rendered["next_execution_at"] is None


def test_get_job_returns_it_under_job(
    api: ApiClient, factory: Factory, user: User, viewer_token: str
) -> None:
    job = factory.job(user, name="The job")
    response = api.get(f"/jobs/{job.id}", token=viewer_token)
    assert response.status_code == 200
    assert response.json()["job"]["name"] == "The job"


def test_get_missing_job_is_404(api: ApiClient, viewer_token: str) -> None:
    response = api.get("/jobs/nonexistent", token=viewer_token)
    assert response.status_code == 404
    assert response.json() == {"error": "Job not found", "message": "No job found with ID: nonexistent"}


# --- POST /jobs: success -------------------------------------------------------------------


def test_create_job_answers_201_with_the_job(
    api: ApiClient, admin_token: str, body: dict[str, Any]
) -> None:
    response = api.post("/jobs", token=admin_token, json=body | {"metadata": {"suite": "smoke"}})
    assert response.status_code == 201
    payload = response.json()
    assert payload["message"] == "Job created successfully"
    job = payload["job"]
    assert set(job) >= JOB_KEYS
    assert job["name"] == "Nightly regression"
    assert job["target_url"] == "https://hooks.example.com/run"
    assert job["metadata"] == {"suite": "smoke"}
    assert job["category"] == "general"
    assert job["pic_team"] == "team-a"
    assert job["is_active"] is True
    assert job["last_execution_at"] is None
    assert LOCAL_INSTANT.fullmatch(job["next_execution_at"])


def test_create_job_sets_created_by_to_the_caller(
    api: ApiClient, user: User, user_token: str, body: dict[str, Any], db: Session
) -> None:
    job_id = api.post("/jobs", token=user_token, json=body).json()["job"]["id"]
    assert stored_job(db, job_id).created_by == user.id


def test_create_trims_the_name(api: ApiClient, admin_token: str, body: dict[str, Any]) -> None:
    response = api.post("/jobs", token=admin_token, json=body | {"name": "  padded  "})
    assert response.json()["job"]["name"] == "padded"


def test_create_github_job_defaults_the_owner(
    api: ApiClient, admin_token: str, body: dict[str, Any]
) -> None:
    github = {"github_owner": "", "github_repo": "api", "github_workflow_name": "launcher.yml"}
    del body["target_url"]
    job = api.post("/jobs", token=admin_token, json=body | github).json()["job"]
    assert (job["github_owner"], job["github_repo"], job["github_workflow_name"]) == (
        "default-org", "api", "launcher.yml")
    assert job["target_url"] is None


def test_create_reads_github_shorthand_in_target_url(
    api: ApiClient, admin_token: str, body: dict[str, Any]
) -> None:
    job = api.post("/jobs", token=admin_token, json=body | {"target_url": "my-org/api/deploy.yml"}).json()["job"]
    assert job["target_url"] is None
    assert (job["github_owner"], job["github_repo"], job["github_workflow_name"]) == (
        "my-org", "api", "deploy.yml")


def test_create_with_target_url_keeps_a_blank_owner(
    api: ApiClient, admin_token: str, body: dict[str, Any]
) -> None:
    extra = {"github_owner": "", "github_repo": "api", "github_workflow_name": "x.yml"}
    job = api.post("/jobs", token=admin_token, json=body | extra).json()["job"]
    assert job["github_owner"] is None
    assert job["target_url"] == "https://hooks.example.com/run"


def test_create_forces_email_fields_off_when_email_is_disabled(
    api: ApiClient, admin_token: str, body: dict[str, Any]
) -> None:
    extra = {"enable_email_notifications": False, "notification_emails": ["a@x.com"], "notify_on_success": True}
    job = api.post("/jobs", token=admin_token, json=body | extra).json()["job"]
    assert job["enable_email_notifications"] is False
    assert job["notification_emails"] == []
    assert job["notify_on_success"] is False


def test_create_keeps_email_fields_when_email_is_enabled(
    api: ApiClient, admin_token: str, body: dict[str, Any]
) -> None:
    extra = {"enable_email_notifications": True, "notification_emails": " a@x.com, ,b@x.com,a@x.com",
             "notify_on_success": 1}
    job = api.post("/jobs", token=admin_token, json=body | extra).json()["job"]
    assert job["enable_email_notifications"] is True
    assert job["notification_emails"] == ["a@x.com", "b@x.com", "a@x.com"]
    assert job["notify_on_success"] is True


def test_create_ignores_is_active(api: ApiClient, admin_token: str, body: dict[str, Any]) -> None:
    job = api.post("/jobs", token=admin_token, json=body | {"is_active": False}).json()["job"]
    assert job["is_active"] is True


def test_create_accepts_pic_team_slug_alias_and_display_name(
    api: ApiClient, admin_token: str, body: dict[str, Any]
) -> None:
    del body["pic_team"]
    by_slug = api.post("/jobs", token=admin_token, json=body | {"pic_team": "", "pic_team_slug": "team-a"})
    by_name = api.post("/jobs", token=admin_token, json=body | {"name": "b", "pic_team": "TEAM A"})
    assert by_slug.json()["job"]["pic_team"] == "team-a"
    assert by_name.json()["job"]["pic_team"] == "team-a"


def test_create_resolves_category_name_to_slug_even_when_disabled(
    api: ApiClient, factory: Factory, admin_token: str, body: dict[str, Any]
) -> None:
    factory.category("Smoke Tests", slug="smoke", is_active=False)
    job = api.post("/jobs", token=admin_token, json=body | {"category": "smoke tests"}).json()["job"]
    assert job["category"] == "smoke"


def test_create_accepts_end_date_today(
    api: ApiClient, admin_token: str, body: dict[str, Any], settings: Settings
) -> None:
    response = api.post("/jobs", token=admin_token, json=body | {"end_date": today(settings).isoformat()})
    assert response.status_code == 201


def test_create_by_viewer_is_403_role_gate(
    api: ApiClient, viewer_token: str, body: dict[str, Any]
) -> None:
    response = api.post("/jobs", token=viewer_token, json=body)
    assert response.status_code == 403
    assert response.json() == {
        "error": "Insufficient permissions",
        "message": "This endpoint requires one of the following roles: admin, user",
    }


def test_create_broadcasts_new_job_created_to_every_user(
    api: ApiClient, factory: Factory, admin: User, admin_token: str, user: User, viewer: User,
    body: dict[str, Any], db: Session,
) -> None:
    inactive = factory.user("user", is_active=False)
    job_id = api.post("/jobs", token=admin_token, json=body).json()["job"]["id"]
    rows = notifications(db, "New Job Created")
    assert {row.user_id for row in rows} == {admin.id, user.id, viewer.id, inactive.id}
    row = rows[0]
    assert row.message == f'Job "Nightly regression" was created by {admin.email}.'
    assert (row.type, row.related_job_id, row.is_read) == ("info", job_id, False)


# --- POST /jobs: rules of 7.1, in order ------------------------------------------------------


def assert_400(response: Any, expected: dict[str, Any]) -> None:
    assert response.status_code == 400, response.text
    assert response.json() == expected


def test_create_without_required_keys_lists_them_in_order(api: ApiClient, admin_token: str) -> None:
    response = api.post("/jobs", token=admin_token, json={"pic_team": "team-a"})
    assert_400(response, {"error": "Missing required fields",
                          "missing_fields": ["name", "cron_expression", "end_date"]})


def test_create_with_blank_name_is_400(api: ApiClient, admin_token: str, body: dict[str, Any]) -> None:
    assert_400(api.post("/jobs", token=admin_token, json=body | {"name": "   "}),
               {"error": "Job name cannot be empty"})


def test_create_with_numeric_name_is_400(api: ApiClient, admin_token: str, body: dict[str, Any]) -> None:
    assert_400(api.post("/jobs", token=admin_token, json=body | {"name": 42}),
               {"error": "Job name cannot be empty"})


def test_create_with_duplicate_name_is_400(
    api: ApiClient, factory: Factory, admin_token: str, body: dict[str, Any]
) -> None:
    factory.job(name="Nightly regression")
    assert_400(api.post("/jobs", token=admin_token, json=body | {"name": " Nightly regression "}), {
        "error": "Duplicate job name",
        "message": 'A job with the name "Nightly regression" already exists. Please use a unique name.',
    })


def test_create_name_comparison_is_case_sensitive(
    api: ApiClient, factory: Factory, admin_token: str, body: dict[str, Any]
) -> None:
    factory.job(name="Nightly regression")
    response = api.post("/jobs", token=admin_token, json=body | {"name": "nightly regression"})
    assert response.status_code == 201


def test_create_with_wrong_cron_field_count_is_400(
    api: ApiClient, admin_token: str, body: dict[str, Any]
) -> None:
    assert_400(api.post("/jobs", token=admin_token, json=body | {"cron_expression": "0 2 * *"}), {
        "error": "Invalid cron expression",
        "message": "Cron expression must have exactly 5 fields (minute hour day month day-of-week).",
    })


def test_create_with_blank_cron_is_400(api: ApiClient, admin_token: str, body: dict[str, Any]) -> None:
    assert_400(api.post("/jobs", token=admin_token, json=body | {"cron_expression": " "}),
               {"error": "Invalid cron expression", "message": "Cron expression is required."})


def test_create_with_out_of_range_cron_reports_the_parser_reason(
    api: ApiClient, admin_token: str, body: dict[str, Any]
) -> None:
    response = api.post("/jobs", token=admin_token, json=body | {"cron_expression": "61 2 * * *"})
    assert response.status_code == 400
    assert response.json()["error"] == "Invalid cron expression"
    assert response.json()["message"]


def test_create_with_target_url_without_scheme_is_400(
    api: ApiClient, admin_token: str, body: dict[str, Any]
) -> None:
    assert_400(api.post("/jobs", token=admin_token, json=body | {"target_url": "hooks.example.com/run"}), {
        "error": "Invalid target_url", "message": "target_url must include scheme (http:// or https://).",
    })


def test_create_with_unknown_category_is_400(api: ApiClient, admin_token: str, body: dict[str, Any]) -> None:
    assert_400(api.post("/jobs", token=admin_token, json=body | {"category": "nope"}), {
        "error": "Invalid category",
        "message": "Unknown category. Create it in Settings → Categories first, or choose General.",
    })


def test_create_with_non_object_metadata_is_400(
    api: ApiClient, admin_token: str, body: dict[str, Any]
) -> None:
    assert_400(api.post("/jobs", token=admin_token, json=body | {"metadata": ["a"]}),
               {"error": "Invalid metadata", "message": "metadata must be a JSON object"})


def test_create_with_non_list_notification_emails_is_400(
    api: ApiClient, admin_token: str, body: dict[str, Any]
) -> None:
    assert_400(api.post("/jobs", token=admin_token, json=body | {"notification_emails": 5}),
               {"error": "Invalid notification_emails", "message": "notification_emails must be a list"})


def test_create_with_unparseable_end_date_is_400(
    api: ApiClient, admin_token: str, body: dict[str, Any]
) -> None:
    assert_400(api.post("/jobs", token=admin_token, json=body | {"end_date": "31/03/2030"}),
               {"error": "Invalid end_date", "message": "Invalid end_date. Use YYYY-MM-DD."})


def test_create_with_numeric_end_date_is_400(api: ApiClient, admin_token: str, body: dict[str, Any]) -> None:
    assert_400(api.post("/jobs", token=admin_token, json=body | {"end_date": 20300331}),
               {"error": "Invalid end_date", "message": "Invalid end_date. Use YYYY-MM-DD."})


def test_create_with_empty_end_date_is_400(api: ApiClient, admin_token: str, body: dict[str, Any]) -> None:
    assert_400(api.post("/jobs", token=admin_token, json=body | {"end_date": ""}),
               {"error": "Missing required fields", "message": '"end_date" is required (YYYY-MM-DD).'})


def test_create_with_past_end_date_is_400(
    api: ApiClient, admin_token: str, body: dict[str, Any], settings: Settings
) -> None:
    yesterday = (today(settings) - timedelta(days=1)).isoformat()
    assert_400(api.post("/jobs", token=admin_token, json=body | {"end_date": yesterday}), {
        "error": "Invalid end_date", "message": "end_date must be today or in the future (JST).",
    })


def test_create_without_pic_team_is_400(api: ApiClient, admin_token: str, body: dict[str, Any]) -> None:
    assert_400(api.post("/jobs", token=admin_token, json=body | {"pic_team": " "}), {
        "error": "Invalid PIC team", "message": "PIC team is required. Create one in Settings → PIC Teams.",
    })


def test_create_with_unknown_pic_team_is_400(api: ApiClient, admin_token: str, body: dict[str, Any]) -> None:
    assert_400(api.post("/jobs", token=admin_token, json=body | {"pic_team": "ghosts"}), {
        "error": "Invalid PIC team", "message": "Unknown PIC team. Create it in Settings → PIC Teams first.",
    })


def test_create_with_disabled_pic_team_is_400(
    api: ApiClient, factory: Factory, admin_token: str, body: dict[str, Any]
) -> None:
    factory.team("Sleepers", is_active=False)
    assert_400(api.post("/jobs", token=admin_token, json=body | {"pic_team": "sleepers"}), {
        "error": "Invalid PIC team",
        "message": "PIC team is disabled. Enable it in Settings → PIC Teams or choose another.",
    })


def test_create_without_target_is_400(api: ApiClient, admin_token: str, body: dict[str, Any]) -> None:
    del body["target_url"]
    assert_400(api.post("/jobs", token=admin_token, json=body | {"github_repo": "api"}), {
        "error": "Missing target configuration",
        "message": 'Please provide either "target_url" or GitHub Actions configuration '
                   "(github_owner, github_repo, github_workflow_name)",
    })


def test_create_reports_the_first_failing_rule_in_contract_order(
    api: ApiClient, factory: Factory, admin_token: str, settings: Settings
) -> None:
    factory.job(name="taken")
    factory.team("Sleepers", is_active=False)
    body: dict[str, Any] = {
        "name": "", "cron_expression": "bad", "end_date": "soon", "target_url": "ftp://x",
        "category": "nope", "metadata": 1, "notification_emails": 1, "pic_team": "",
    }
    fixes: list[tuple[str, dict[str, Any]]] = [
        ("Job name cannot be empty", {"name": "taken"}),
        ("Duplicate job name", {"name": "fresh"}),
        ("Invalid cron expression", {"cron_expression": "0 2 * * *"}),
        ("Invalid target_url", {"target_url": None}),
        ("Invalid category", {"category": None}),
        ("Invalid metadata", {"metadata": None}),
        ("Invalid notification_emails", {"notification_emails": None}),
        ("Invalid end_date", {"end_date": None}),
        ("Missing required fields", {"end_date": "2000-01-01"}),
        ("Invalid end_date", {"end_date": future(settings)}),
        ("Invalid PIC team", {"pic_team": "unknown"}),
        ("Invalid PIC team", {"pic_team": "sleepers"}),
        ("Invalid PIC team", {"pic_team": "team-a"}),
        ("Missing target configuration", {"target_url": "https://ok.example.com"}),
    ]
    factory.team("Team A", slug="team-a")
    for expected_error, fix in fixes:
        response = api.post("/jobs", token=admin_token, json=body)
        assert response.status_code == 400 and response.json()["error"] == expected_error, (fix, response.json())
        body |= fix
    assert api.post("/jobs", token=admin_token, json=body).status_code == 201


def test_create_with_wrong_content_type_is_400(api: ApiClient, admin_token: str) -> None:
    response = api.post("/jobs", token=admin_token, content=b"{}", headers={"Content-Type": "text/plain"})
    assert_400(response, {"error": "Content-Type must be application/json"})


def test_create_with_malformed_json_is_400(api: ApiClient, admin_token: str) -> None:
    response = api.post("/jobs", token=admin_token, content=b"{nope",
                        headers={"Content-Type": "application/json"})
    assert_400(response, {"error": "Invalid JSON", "message": "Request body is not valid JSON."})


def test_create_with_non_object_json_is_400(api: ApiClient, admin_token: str) -> None:
    response = api.post("/jobs", token=admin_token, json=[1, 2])
    assert_400(response, {"error": "Invalid payload", "message": "JSON body must be an object."})


def test_create_with_numeric_github_repo_is_400(
    api: ApiClient, admin_token: str, body: dict[str, Any]
) -> None:
    assert_400(api.post("/jobs", token=admin_token, json=body | {"github_repo": 7}),
               {"error": "Invalid payload", "message": '"github_repo" must be a string.'})


def test_failed_create_leaves_no_job_and_no_notification(
    api: ApiClient, admin_token: str, body: dict[str, Any], db: Session
) -> None:
    api.post("/jobs", token=admin_token, json=body | {"pic_team": "ghosts"})
    db.expire_all()
    assert db.scalars(select(Job)).all() == []
    assert notifications(db) == []


# --- PUT /jobs/{id} ---------------------------------------------------------------------------


def test_update_missing_job_is_404_even_for_a_viewer(api: ApiClient, viewer_token: str) -> None:
    response = api.put("/jobs/nonexistent", token=viewer_token, content=b"x",
                       headers={"Content-Type": "text/plain"})
    assert response.status_code == 404
    assert response.json() == {"error": "Job not found", "message": "No job found with ID: nonexistent"}


def test_update_by_viewer_is_403(api: ApiClient, factory: Factory, viewer: User, viewer_token: str) -> None:
    job = factory.job(viewer)
    response = api.put(f"/jobs/{job.id}", token=viewer_token, json={})
    assert response.status_code == 403
    assert response.json() == {"error": "Insufficient permissions", "message": "You can only update your own jobs"}


def test_update_of_another_users_job_is_403_before_the_content_type_check(
    api: ApiClient, factory: Factory, user_token: str
) -> None:
    job = factory.job(factory.user("user"))
    response = api.put(f"/jobs/{job.id}", token=user_token, content=b"x", headers={"Content-Type": "text/plain"})
    assert response.status_code == 403
    assert response.json() == {"error": "Insufficient permissions", "message": "You can only update your own jobs"}


def test_update_of_an_ownerless_job_is_403_for_a_user(api: ApiClient, factory: Factory, user_token: str) -> None:
    job = factory.job(None)
    assert api.put(f"/jobs/{job.id}", token=user_token, json={}).status_code == 403


def test_admin_updates_an_ownerless_job(api: ApiClient, factory: Factory, admin_token: str) -> None:
    job = factory.job(None)
    response = api.put(f"/jobs/{job.id}", token=admin_token, json={"name": "adopted"})
    assert response.status_code == 200
    assert response.json()["job"]["name"] == "adopted"


def test_admin_updates_any_users_job(api: ApiClient, factory: Factory, user: User, admin_token: str) -> None:
    job = factory.job(user)
    assert api.put(f"/jobs/{job.id}", token=admin_token, json={"cron_expression": "5 * * * *"}).status_code == 200


def test_owner_updates_own_job(api: ApiClient, factory: Factory, user: User, user_token: str) -> None:
    job = factory.job(user)
    response = api.put(f"/jobs/{job.id}", token=user_token, json={"cron_expression": " 5  * * * * "})
    assert response.status_code == 200
    assert response.json()["message"] == "Job updated successfully"
    assert response.json()["job"]["cron_expression"] == "5 * * * *"


def test_update_with_wrong_content_type_is_400(
    api: ApiClient, factory: Factory, user: User, user_token: str
) -> None:
    job = factory.job(user)
    response = api.put(f"/jobs/{job.id}", token=user_token, content=b"{}", headers={"Content-Type": "text/plain"})
    assert_400(response, {"error": "Content-Type must be application/json"})


def test_update_with_malformed_json_is_400(api: ApiClient, factory: Factory, user: User, user_token: str) -> None:
    job = factory.job(user)
    response = api.put(f"/jobs/{job.id}", token=user_token, content=b"{",
                       headers={"Content-Type": "application/json"})
    assert_400(response, {"error": "Invalid JSON", "message": "Request body is not valid JSON."})


def test_update_with_non_object_json_is_400(api: ApiClient, factory: Factory, user: User, user_token: str) -> None:
    job = factory.job(user)
    response = api.put(f"/jobs/{job.id}", token=user_token, json="text")
    assert_400(response, {"error": "Invalid payload", "message": "JSON body must be an object."})


def test_update_is_partial(api: ApiClient, factory: Factory, user: User, user_token: str, db: Session) -> None:
    job = factory.job(user, job_metadata='{"a": 1}', category="general")
    api.put(f"/jobs/{job.id}", token=user_token, json={"name": "renamed"})
    stored = stored_job(db, job.id)
    assert (stored.name, stored.job_metadata, stored.cron_expression) == ("renamed", '{"a": 1}', "0 2 * * *")


def test_update_with_empty_object_bumps_updated_at(
    api: ApiClient, factory: Factory, user: User, user_token: str
) -> None:
    job = factory.job(user, updated_at=datetime(2025, 1, 1))
    response = api.put(f"/jobs/{job.id}", token=user_token, json={})
    assert response.status_code == 200
    assert response.json()["job"]["updated_at"] != "2025-01-01T00:00:00.000Z"


def test_update_to_another_jobs_name_is_400_without_the_last_sentence(
    api: ApiClient, factory: Factory, user: User, user_token: str
) -> None:
    factory.job(name="taken")
    job = factory.job(user)
    assert_400(api.put(f"/jobs/{job.id}", token=user_token, json={"name": "taken"}), {
        "error": "Duplicate job name", "message": 'A job with the name "taken" already exists.',
    })


def test_update_keeping_its_own_name_is_allowed(api: ApiClient, factory: Factory, user: User, user_token: str) -> None:
    job = factory.job(user, name="mine")
    assert api.put(f"/jobs/{job.id}", token=user_token, json={"name": "mine"}).status_code == 200


def test_update_with_numeric_name_is_400(api: ApiClient, factory: Factory, user: User, user_token: str) -> None:
    job = factory.job(user)
    assert_400(api.put(f"/jobs/{job.id}", token=user_token, json={"name": 1}), {"error": "Job name cannot be empty"})


def test_update_with_null_end_date_is_400(api: ApiClient, factory: Factory, user: User, user_token: str) -> None:
    job = factory.job(user)
    assert_400(api.put(f"/jobs/{job.id}", token=user_token, json={"end_date": None}),
               {"error": "Invalid end_date", "message": "end_date is required (YYYY-MM-DD)."})


def test_update_with_numeric_end_date_is_400(api: ApiClient, factory: Factory, user: User, user_token: str) -> None:
    job = factory.job(user)
    assert_400(api.put(f"/jobs/{job.id}", token=user_token, json={"end_date": 20300101}),
               {"error": "Invalid end_date", "message": "Invalid end_date. Use YYYY-MM-DD."})


def test_update_with_disabled_pic_team_is_400(
    api: ApiClient, factory: Factory, user: User, user_token: str
) -> None:
    factory.team("Sleepers", is_active=False)
    job = factory.job(user)
    assert_400(api.put(f"/jobs/{job.id}", token=user_token, json={"pic_team": "sleepers"}), {
        "error": "Invalid PIC team",
        "message": "PIC team is disabled. Enable it in Settings → PIC Teams or choose another.",
    })


def test_update_without_team_key_keeps_a_job_of_a_disabled_team_editable(
    api: ApiClient, factory: Factory, user: User, user_token: str
) -> None:
    factory.team("Sleepers", is_active=False)
    job = factory.job(user, pic_team="sleepers")
    assert api.put(f"/jobs/{job.id}", token=user_token, json={"name": "still fine"}).status_code == 200


def test_enabling_an_expired_job_is_400(api: ApiClient, factory: Factory, user: User, user_token: str,
                                        settings: Settings) -> None:
    job = factory.job(user, is_active=False, end_date=today(settings) - timedelta(days=1))
    assert_400(api.put(f"/jobs/{job.id}", token=user_token, json={"is_active": True}), EXPIRED_BODY)


def test_editing_an_unrelated_field_of_an_active_expired_job_is_400(
    api: ApiClient, factory: Factory, user: User, user_token: str, settings: Settings
) -> None:
    job = factory.job(user, is_active=True, end_date=today(settings) - timedelta(days=3))
    assert_400(api.put(f"/jobs/{job.id}", token=user_token, json={"name": "other"}), EXPIRED_BODY)


def test_disabling_an_active_expired_job_is_allowed(
    api: ApiClient, factory: Factory, user: User, user_token: str, settings: Settings
) -> None:
    job = factory.job(user, is_active=True, end_date=today(settings) - timedelta(days=3))
    response = api.put(f"/jobs/{job.id}", token=user_token, json={"is_active": False})
    assert response.status_code == 200
    assert response.json()["job"]["is_active"] is False


def test_enabling_an_expired_job_with_a_new_end_date_is_allowed(
    api: ApiClient, factory: Factory, user: User, user_token: str, settings: Settings
) -> None:
    job = factory.job(user, is_active=False, end_date=today(settings) - timedelta(days=3))
    response = api.put(f"/jobs/{job.id}", token=user_token, json={"is_active": "yes", "end_date": future(settings)})
    assert response.status_code == 200
    assert response.json()["job"]["is_active"] is True


def test_update_that_removes_the_only_target_is_400(
    api: ApiClient, factory: Factory, user: User, user_token: str
) -> None:
    job = factory.job(user, target_url="https://hooks.example.com")
    assert_400(api.put(f"/jobs/{job.id}", token=user_token, json={"target_url": ""}), {
        "error": "Missing target configuration",
        "message": "Job must have either target_url or complete GitHub Actions configuration",
    })


def test_update_reads_github_shorthand_and_clears_target_url(
    api: ApiClient, factory: Factory, user: User, user_token: str
) -> None:
    job = factory.job(user, target_url="https://hooks.example.com")
    updated = api.put(f"/jobs/{job.id}", token=user_token, json={"target_url": "org/repo/wf.yml"}).json()["job"]
    assert (updated["target_url"], updated["github_owner"], updated["github_repo"],
            updated["github_workflow_name"]) == (None, "org", "repo", "wf.yml")


def test_update_defaults_the_github_owner(api: ApiClient, factory: Factory, user: User, user_token: str) -> None:
    job = factory.job(user, target_url="https://hooks.example.com")
    body = {"target_url": "", "github_owner": "", "github_repo": "api", "github_workflow_name": "w.yml"}
    updated = api.put(f"/jobs/{job.id}", token=user_token, json=body).json()["job"]
    assert updated["github_owner"] == "default-org"


def test_update_with_target_url_without_scheme_is_400(
    api: ApiClient, factory: Factory, user: User, user_token: str
) -> None:
    job = factory.job(user)
    assert_400(api.put(f"/jobs/{job.id}", token=user_token, json={"target_url": "example.com/x"}), {
        "error": "Invalid target_url", "message": "target_url must include scheme (http:// or https://).",
    })


def test_failed_update_persists_nothing(
    api: ApiClient, factory: Factory, user: User, user_token: str, db: Session
) -> None:
    job = factory.job(user, name="before", updated_at=datetime(2025, 1, 1))
    response = api.put(f"/jobs/{job.id}", token=user_token, json={"name": "after", "category": "nope"})
    assert response.status_code == 400
    stored = stored_job(db, job.id)
    assert (stored.name, stored.updated_at) == ("before", datetime(2025, 1, 1))
    assert notifications(db) == []


def test_update_can_enable_email_set_addresses_and_success_mails_at_once(
    api: ApiClient, factory: Factory, user: User, user_token: str
) -> None:
    job = factory.job(user)
    body = {"enable_email_notifications": True, "notification_emails": ["a@x.com", " "], "notify_on_success": True}
    updated = api.put(f"/jobs/{job.id}", token=user_token, json=body).json()["job"]
    assert (updated["enable_email_notifications"], updated["notification_emails"], updated["notify_on_success"]) == (
        True, ["a@x.com"], True)


def test_disabling_email_clears_addresses_and_success_mails(
    api: ApiClient, factory: Factory, user: User, user_token: str
) -> None:
    job = factory.job(user, enable_email_notifications=True, notification_emails="a@x.com", notify_on_success=True)
    updated = api.put(f"/jobs/{job.id}", token=user_token, json={"enable_email_notifications": False}).json()["job"]
    assert (updated["notification_emails"], updated["notify_on_success"]) == ([], False)


def test_addresses_and_success_mails_are_not_kept_while_email_is_disabled(
    api: ApiClient, factory: Factory, user: User, user_token: str
) -> None:
    job = factory.job(user)
    body = {"notification_emails": "a@x.com", "notify_on_success": True}
    updated = api.put(f"/jobs/{job.id}", token=user_token, json=body).json()["job"]
    assert (updated["notification_emails"], updated["notify_on_success"]) == ([], False)


def test_update_with_invalid_notification_emails_is_400(
    api: ApiClient, factory: Factory, user: User, user_token: str
) -> None:
    job = factory.job(user)
    assert_400(api.put(f"/jobs/{job.id}", token=user_token, json={"notification_emails": [1]}),
               {"error": "Invalid notification_emails", "message": "notification_emails must be a list"})


@pytest.mark.parametrize(
    ("was_active", "body", "title", "verb", "type_"),
    [
        (False, {"is_active": True}, "Job Enabled", "enabled", "info"),
        (True, {"is_active": False}, "Job Disabled", "disabled", "warning"),
        (True, {"name": "renamed"}, "Job Updated", "updated", "info"),
        (True, {"is_active": True}, "Job Updated", "updated", "info"),
        (True, {}, "Job Updated", "updated", "info"),
    ],
)
def test_update_broadcasts_to_every_user(
    api: ApiClient, factory: Factory, admin: User, user: User, viewer: User, user_token: str, db: Session,
    was_active: bool, body: dict[str, Any], title: str, verb: str, type_: str,
) -> None:
    job = factory.job(user, name="renamed" if "name" not in body else "original", is_active=was_active)
    assert api.put(f"/jobs/{job.id}", token=user_token, json=body).status_code == 200
    rows = notifications(db)
    assert {row.user_id for row in rows} == {admin.id, user.id, viewer.id}
    assert {(row.title, row.message, row.type, row.related_job_id) for row in rows} == {
        (title, f'Job "renamed" was {verb} by {user.email}.', type_, job.id)
    }


# --- DELETE /jobs/{id} ------------------------------------------------------------------------


def test_delete_missing_job_is_404(api: ApiClient, viewer_token: str) -> None:
    response = api.delete("/jobs/nonexistent", token=viewer_token)
    assert response.status_code == 404
    assert response.json() == {"error": "Job not found", "message": "No job found with ID: nonexistent"}


def test_delete_by_viewer_is_403(api: ApiClient, factory: Factory, viewer: User, viewer_token: str) -> None:
    job = factory.job(viewer)
    response = api.delete(f"/jobs/{job.id}", token=viewer_token)
    assert response.status_code == 403
    assert response.json() == {"error": "Insufficient permissions", "message": "You can only delete your own jobs"}


def test_delete_of_another_users_job_is_403(api: ApiClient, factory: Factory, user_token: str, db: Session) -> None:
    job = factory.job(factory.user("user"))
    response = api.delete(f"/jobs/{job.id}", token=user_token)
    assert response.status_code == 403
    assert response.json() == {"error": "Insufficient permissions", "message": "You can only delete your own jobs"}
    assert stored_job(db, job.id).id == job.id


def test_delete_of_an_ownerless_job_is_403_for_a_user(api: ApiClient, factory: Factory, user_token: str) -> None:
    job = factory.job(None)
    assert api.delete(f"/jobs/{job.id}", token=user_token).status_code == 403


def test_owner_deletes_own_job(api: ApiClient, factory: Factory, user: User, user_token: str, db: Session) -> None:
    job_id = factory.job(user, name="gone").id
    response = api.delete(f"/jobs/{job_id}", token=user_token)
    assert response.status_code == 200
    assert response.json() == {"message": "Job deleted successfully", "deleted_job": {"id": job_id, "name": "gone"}}
    db.expire_all()
    assert db.get(Job, job_id) is None


def test_admin_deletes_any_job(api: ApiClient, factory: Factory, user: User, admin_token: str) -> None:
    job = factory.job(user)
    assert api.delete(f"/jobs/{job.id}", token=admin_token).status_code == 200
    assert api.get(f"/jobs/{job.id}", token=admin_token).status_code == 404


def test_delete_removes_executions_and_unlinks_notifications(
    api: ApiClient, factory: Factory, user: User, admin_token: str, db: Session
) -> None:
    job = factory.job(user)
    kept_job = factory.job(user)
    execution = factory.execution(job)
    kept_execution = factory.execution(kept_job)
    note = factory.notification(user, related_job_id=job.id, related_execution_id=execution.id)
    other = factory.notification(user, related_job_id=kept_job.id, related_execution_id=kept_execution.id)
    assert api.delete(f"/jobs/{job.id}", token=admin_token).status_code == 200
    db.expire_all()
    assert db.scalars(select(JobExecution.id)).all() == [kept_execution.id]
    unlinked = db.get(Notification, note.id)
    assert unlinked is not None
    assert (unlinked.related_job_id, unlinked.related_execution_id) == (None, None)
    untouched = db.get(Notification, other.id)
    assert untouched is not None
    assert (untouched.related_job_id, untouched.related_execution_id) == (kept_job.id, kept_execution.id)


def test_delete_leaves_a_deletion_record_for_the_scheduler_sync(
    api: ApiClient, factory: Factory, user: User, admin_token: str, db: Session
) -> None:
    job_id = factory.job(user).id
    assert api.delete(f"/jobs/{job_id}", token=admin_token).status_code == 200
    db.expire_all()
    assert db.scalars(select(JobDeletion.job_id)).all() == [job_id]


def test_delete_broadcasts_job_deleted_without_a_job_reference(
    api: ApiClient, factory: Factory, admin: User, admin_token: str, user: User, viewer: User, db: Session
) -> None:
    job = factory.job(user, name="old job")
    api.delete(f"/jobs/{job.id}", token=admin_token)
    rows = notifications(db, "Job Deleted")
    assert {row.user_id for row in rows} == {admin.id, user.id, viewer.id}
    assert {(row.message, row.type, row.related_job_id) for row in rows} == {
        (f'Job "old job" was deleted by {admin.email}.', "warning", None)
    }


# --- duplicate names decided by the database (concurrent creates) ------------------------------


def test_losing_a_name_race_answers_duplicate_and_keeps_the_outer_transaction(
    db: Session, factory: Factory, admin: User, team: Any, settings: Settings, body: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from src.core import job_fields, jobs
    from src.core.errors import Invalid

    factory.job(name="Nightly regression")
    # The twin request committed between our name check and our insert: only the constraint sees it.
    monkeypatch.setattr(job_fields, "job_name_taken", lambda *args, **kwargs: False)
    earlier = factory.user("viewer")
    earlier.username = "renamed-in-same-transaction"
    db.flush()
    with pytest.raises(Invalid) as raised:
        jobs.create_job(db, settings, admin, body)
    assert raised.value.body() == {
        "error": "Duplicate job name",
        "message": 'A job with the name "Nightly regression" already exists. Please use a unique name.',
    }
    db.commit()
    db.expire_all()
    assert db.get(User, earlier.id).username == "renamed-in-same-transaction"  # type: ignore[union-attr]  # None here fails the test, as it should
    assert len(db.scalars(select(Job)).all()) == 1


# --- GET /jobs: the kept rendering is always the current list --------------------------------


def test_list_jobs_answers_304_to_its_own_etag(api: ApiClient, factory: Factory, user: User, viewer_token: str) -> None:
    factory.job(user)
    first = api.get("/jobs", token=viewer_token)
    etag = first.headers["ETag"]
    again = api.get("/jobs", token=viewer_token, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["ETag"] == etag


def test_list_jobs_with_a_stale_etag_gets_the_full_list(
    api: ApiClient, factory: Factory, user: User, viewer_token: str
) -> None:
    factory.job(user)
    response = api.get("/jobs", token=viewer_token, headers={"If-None-Match": '"stale"'})
    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_list_jobs_shows_an_edit_at_once_with_a_new_etag(
    api: ApiClient, factory: Factory, user: User, admin_token: str
) -> None:
    job = factory.job(user, name="before")
    first = api.get("/jobs", token=admin_token)
    assert api.put(f"/jobs/{job.id}", token=admin_token, json={"name": "after"}).status_code == 200
    second = api.get("/jobs", token=admin_token, headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200
    assert [listed["name"] for listed in second.json()["jobs"]] == ["after"]
    assert second.headers["ETag"] != first.headers["ETag"]


def test_list_jobs_shows_a_new_execution_as_last_execution_at(
    api: ApiClient, factory: Factory, user: User, viewer_token: str
) -> None:
    job = factory.job(user)
    assert api.get("/jobs", token=viewer_token).json()["jobs"][0]["last_execution_at"] is None
    factory.execution(job, started_at=datetime(2026, 1, 2, 3, 4, 5))
    listed = api.get("/jobs", token=viewer_token).json()["jobs"][0]
    assert listed["last_execution_at"] == "2026-01-02T03:04:05.000Z"


def test_list_jobs_drops_a_deleted_job_at_once(api: ApiClient, factory: Factory, user: User, admin_token: str) -> None:
    kept, deleted = factory.job(user), factory.job(user)
    api.get("/jobs", token=admin_token)
    assert api.delete(f"/jobs/{deleted.id}", token=admin_token).status_code == 200
    assert [listed["id"] for listed in api.get("/jobs", token=admin_token).json()["jobs"]] == [kept.id]

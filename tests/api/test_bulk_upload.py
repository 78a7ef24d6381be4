"""Bulk CSV upload of jobs (contract 4.7, 7.7, 1.3 413) through each door."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from src.config import Settings
from src.core.clock import local_today
from src.core.targets import DISPATCH_URL_FORMAT_MESSAGE
from src.models import Job, Notification, User
from tests.api.conftest import ApiClient
from tests.conftest import Factory, legacy_door
from tests.sql_statements import counting

SPA_HEADER = "Job Name,Repo,Workflow Name,Branch,Cron schedule (JST),Status,End Date,PIC Team,Request Body"
RESULT_KEYS = {"message", "dry_run", "stats", "created_count", "error_count", "errors", "jobs"}
REAL_FAILURE = {"error": "Bulk upload failed", "message": "No jobs were created. Fix CSV errors and try again."}
DRY_FAILURE = {"error": "CSV validation failed", "message": "CSV validation failed"}


def future(settings: Settings, days: int = 30) -> str:
    return (local_today(settings.scheduler_tz) + timedelta(days=days)).isoformat()


def past(settings: Settings) -> str:
    return (local_today(settings.scheduler_tz) - timedelta(days=1)).isoformat()


def upload(api: ApiClient, token: str, content: str | bytes, *, filename: str = "jobs.csv",
           **form: str) -> httpx.Response:
    data = content.encode("utf-8") if isinstance(content, str) else content
    return api.post("/jobs/bulk-upload", token=token, files={"file": (filename, data, "text/csv")}, data=form)


def csv_text(*lines: str) -> str:
    return "\r\n".join(lines) + "\r\n"


def stats(columns: int, rows: int, removed_columns: int = 0, removed_rows: int = 0) -> dict[str, int]:
    return {
        "original_column_count": columns, "original_row_count": rows,
        "removed_column_count": removed_columns, "removed_empty_row_count": removed_rows,
    }


def jobs_by_name(db: Session) -> dict[str, Job]:
    db.expire_all()
    return {job.name: job for job in db.scalars(select(Job))}


def job_count(db: Session) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(Job)) or 0


@pytest.fixture
def user_token(factory: Factory, user: User) -> str:
    return factory.token(user)


@pytest.fixture
def admin_token(factory: Factory, admin: User) -> str:
    return factory.token(admin)


@pytest.fixture
def end(settings: Settings, team: Any) -> str:
    """A valid end date; also makes sure the active team `team-a` exists."""
    return future(settings)


# --- creating jobs -------------------------------------------------------------------------


def test_spa_template_creates_github_jobs(
    api: ApiClient, db: Session, user: User, user_token: str, end: str
) -> None:
    text = csv_text(
        SPA_HEADER,
        f'nightly,acme/api,run.yml,main,0 2 * * *,Active,{end},Team A,"{{""suite"": ""smoke""}}"',
        f"weekly,web,deploy.yml,,0 3 * * 1,,{end},team-a,",
    )
    response = upload(api, user_token, text)
    assert response.status_code == 200
    body = response.json()
    created = jobs_by_name(db)
    assert body == {
        "message": "Bulk upload processed",
        "dry_run": False,
        "stats": stats(9, 2),
        "created_count": 2,
        "error_count": 0,
        "errors": [],
        "jobs": [
            {"id": created["nightly"].id, "name": "nightly", "is_active": True},
            {"id": created["weekly"].id, "name": "weekly", "is_active": True},
        ],
    }
    nightly, weekly = created["nightly"], created["weekly"]
    assert (nightly.target_url, nightly.github_owner, nightly.github_repo, nightly.github_workflow_name) == (
        None, "acme", "api", "run.yml")
    assert json.loads(nightly.job_metadata or "") == {"suite": "smoke", "branchDetails": "main"}
    assert (nightly.cron_expression, nightly.category, nightly.pic_team, nightly.end_date.isoformat()) == (
        "0 2 * * *", "general", "team-a", end)
    assert (weekly.github_owner, weekly.github_repo, json.loads(weekly.job_metadata or "")) == (
        "default-org", "web", {})


def test_created_jobs_have_email_off_and_the_caller_as_owner(
    api: ApiClient, db: Session, user: User, user_token: str, end: str
) -> None:
    upload(api, user_token, csv_text(SPA_HEADER, f"n1,api,run.yml,,0 2 * * *,,{end},team-a,"))
    job = jobs_by_name(db)["n1"]
    assert job.created_by == user.id
    assert (job.enable_email_notifications, job.notification_emails, job.notify_on_success) == (False, None, False)


def test_bulk_created_jobs_create_no_notifications(
    api: ApiClient, db: Session, admin: User, user_token: str, end: str
) -> None:
    response = upload(api, user_token, csv_text(SPA_HEADER, f"n1,api,run.yml,,0 2 * * *,,{end},team-a,"))
    assert response.status_code == 200
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Notification)) == 0


def test_inactive_status_rows_are_created_inactive(
    api: ApiClient, db: Session, user_token: str, end: str
) -> None:
    text = csv_text(
        SPA_HEADER,
        f"off-job,api,run.yml,,0 2 * * *,Disabled,{end},team-a,",
        f"on-job,api,run.yml,,0 2 * * *,enabled,{end},team-a,",
    )
    body = upload(api, user_token, text).json()
    assert [(job["name"], job["is_active"]) for job in body["jobs"]] == [("off-job", False), ("on-job", True)]
    created = jobs_by_name(db)
    assert (created["off-job"].is_active, created["on-job"].is_active) == (False, True)


def test_webhook_rows_store_no_github_fields(
    api: ApiClient, db: Session, user_token: str, end: str
) -> None:
    text = csv_text(
        "name,cron,target url,github owner,repo,workflow name,end date,pic team,category",
        f"hook,*/5 * * * *,https://hooks.example.com/run,acme,api,run.yml,{end},team-a,",
    )
    assert upload(api, user_token, text).status_code == 200
    job = jobs_by_name(db)["hook"]
    assert (job.target_url, job.github_owner, job.github_repo, job.github_workflow_name) == (
        "https://hooks.example.com/run", None, None, None)


def test_target_url_shorthand_becomes_github_job(
    api: ApiClient, db: Session, user_token: str, end: str
) -> None:
    text = csv_text("name,cron,target_url,end_date,pic_team", f"short,0 1 * * *,acme/web/ci.yml,{end},team-a")
    assert upload(api, user_token, text).status_code == 200
    job = jobs_by_name(db)["short"]
    assert (job.target_url, job.github_owner, job.github_repo, job.github_workflow_name) == (
        None, "acme", "web", "ci.yml")


def test_dispatch_url_column_becomes_github_job(
    api: ApiClient, db: Session, user_token: str, end: str
) -> None:
    text = csv_text(
        "name,cron,dispatch url,target url,end date,pic team",
        f"disp,0 1 * * *,https://api.github.com/repos/acme/web/actions/workflows/ci.yml/dispatches,"
        f"https://hooks.example.com,{end},team-a",
    )
    assert upload(api, user_token, text).status_code == 200
    job = jobs_by_name(db)["disp"]
    assert (job.target_url, job.github_owner, job.github_repo, job.github_workflow_name) == (
        None, "acme", "web", "ci.yml")


def test_form_default_github_owner_applies_to_bare_repos(
    api: ApiClient, db: Session, user_token: str, end: str
) -> None:
    text = csv_text(
        SPA_HEADER,
        f"bare,api,run.yml,,0 2 * * *,,{end},team-a,",
        f"prefixed,acme/api,run.yml,,0 2 * * *,,{end},team-a,",
    )
    assert upload(api, user_token, text, default_github_owner=" form-org ").status_code == 200
    created = jobs_by_name(db)
    assert (created["bare"].github_owner, created["prefixed"].github_owner) == ("form-org", "acme")


def test_category_and_team_resolve_by_name(
    api: ApiClient, db: Session, factory: Factory, user_token: str, end: str
) -> None:
    factory.category("Smoke Tests", slug="smoke")
    factory.team("Platform Crew", slug="platform")
    text = csv_text("name,cron,url,category,end date,pic team",
                    f"n,0 1 * * *,https://h.example.com,smoke tests,{end},PLATFORM CREW")
    assert upload(api, user_token, text).status_code == 200
    job = jobs_by_name(db)["n"]
    assert (job.category, job.pic_team) == ("smoke", "platform")


def test_admin_may_upload(api: ApiClient, admin_token: str, end: str) -> None:
    text = csv_text("name,cron,url,end date,pic team", f"n,0 1 * * *,https://h.example.com,{end},team-a")
    assert upload(api, admin_token, text).status_code == 200


# --- normalization -------------------------------------------------------------------------


def test_stats_and_row_numbers_follow_normalization(
    api: ApiClient, db: Session, user_token: str, end: str
) -> None:
    text = csv_text(
        "name, ,cron,url,end date,pic team,",
        ",junk,,,,,x",
        f"good,ignored,0 1 * * *,https://h.example.com,{end},team-a,",
        "",
        f"bad,,0 1 * * *,https://h.example.com,{end},nobody",
    )
    response = upload(api, user_token, text)
    assert response.status_code == 200
    body = response.json()
    assert body["stats"] == stats(7, 4, removed_columns=2, removed_rows=2)
    # After dropping the two blank rows, "bad" is the third normalized row.
    assert body["errors"] == [{
        "row": 3, "job_name": "bad", "error": "Invalid PIC team",
        "message": "Unknown PIC team. Create it in Settings → PIC Teams first.",
        "pic_team": "nobody", "pic_team_slug": "nobody",
    }]
    assert set(jobs_by_name(db)) == {"good"}


def test_bom_is_ignored_and_undecodable_bytes_are_replaced(
    api: ApiClient, db: Session, user_token: str, end: str
) -> None:
    content = b"\xef\xbb\xbfJob Name,Cron,URL,End Date,PIC Team\r\n" + \
        b"caf\xe9 job,0 1 * * *,https://h.example.com," + end.encode() + b",team-a\r\n"
    response = upload(api, user_token, content)
    assert response.status_code == 200
    assert response.json()["jobs"][0]["name"] == "caf\ufffd job"
    assert set(jobs_by_name(db)) == {"caf\ufffd job"}


def test_header_only_csv_is_200_with_zero_counts(api: ApiClient, user_token: str) -> None:
    response = upload(api, user_token, csv_text(SPA_HEADER))
    assert response.status_code == 200
    assert response.json() == {
        "message": "Bulk upload processed", "dry_run": False, "stats": stats(9, 0),
        "created_count": 0, "error_count": 0, "errors": [], "jobs": [],
    }


# --- per-row checks ------------------------------------------------------------------------

ALL_RULES_HEADER = "name,cron,dispatch url,target url,repo,workflow name,category,end date,pic team,request body"


def test_each_row_check_reports_its_exact_error_object(
    api: ApiClient, factory: Factory, user: User, user_token: str, settings: Settings, end: str
) -> None:
    factory.job(user, name="existing")
    factory.team("Retired", slug="retired", is_active=False)
    old = past(settings)
    gh = "acme/api,run.yml"
    text = csv_text(
        ALL_RULES_HEADER,
        f"r1,0 1 * * *,https://example.com/x,,,,nope,{old},,",             # 1 beats 4, 7, 8
        "r3,0 1 * * *,,ftp.example.com/x,,,nope,,,",                       # 3 beats 4, 6
        f"r4,0 1 * * *,,,{gh},nope,bad,,",                                   # 4 beats 5
        f"r5,0 1 * * *,,,{gh},,2030/01/01,,",                                # 5 beats 8
        f"r6,0 1 * * *,,,{gh},,,,",                                          # 6
        f"r7,0 1 * * *,,,{gh},,{old},ghost,",                                # 7 beats 8
        f"r8a,0 1 * * *,,,{gh},,{end},,",                                    # 8 required
        f"r8b,0 1 * * *,,,{gh},,{end},Ghost Team,",                          # 8 unknown
        f"r8c,0 1 * * *,,,{gh},,{end},Retired,",                             # 8 disabled
        f",0 1 * * *,,,{gh},,{end},team-a,",                                 # 9 (no name)
        f"r9,,,,{gh},,{end},team-a,[",                                        # 9 beats 13
        f"ok,0 1 * * *,,,{gh},,{end},team-a,",                               # accepted
        f"ok,bad cron,,,{gh},,{end},team-a,",                                # 10 beats 12
        f"existing,bad cron,,,{gh},,{end},team-a,",                          # 11 beats 12
        f"r12,0 1 * *,,,{gh},,{end},team-a,[",                               # 12 beats 13
        f'r13,0 1 * * *,,,{gh},,{end},team-a,"{{not json"',                  # 13
        f"r14,0 1 * * *,,,{gh},,{end},team-a,[1]",                           # 14
        f"r16,0 1 * * *,,,,run.yml,,{end},team-a,",                          # 16
    )
    response = upload(api, user_token, text)
    assert response.status_code == 200
    body = response.json()
    errors = body["errors"]
    assert errors[14]["error"] == "Invalid JSON in Request Body"
    assert errors[14]["message"]  # the parser's text
    errors[14]["message"] = "<parser>"
    assert errors == [
        {"row": 2, "job_name": "r1", "error": "Invalid dispatch_url", "message": DISPATCH_URL_FORMAT_MESSAGE},
        {"row": 3, "job_name": "r3", "error": "Invalid target_url",
         "message": "target_url must include scheme (http:// or https://)."},
        {"row": 4, "job_name": "r4", "error": "Invalid category",
         "message": "Unknown category. Create it in Settings → Categories first, or choose General."},
        {"row": 5, "job_name": "r5", "error": "Invalid end_date", "message": "Invalid end_date. Use YYYY-MM-DD."},
        {"row": 6, "job_name": "r6", "error": "Missing required fields",
         "message": "end_date (YYYY-MM-DD) is required."},
        {"row": 7, "job_name": "r7", "error": "Invalid end_date",
         "message": "end_date must be today or in the future (JST)."},
        {"row": 8, "job_name": "r8a", "error": "Invalid PIC team",
         "message": "PIC team is required. Create one in Settings → PIC Teams.",
         "pic_team": None, "pic_team_slug": None},
        {"row": 9, "job_name": "r8b", "error": "Invalid PIC team",
         "message": "Unknown PIC team. Create it in Settings → PIC Teams first.",
         "pic_team": "Ghost Team", "pic_team_slug": "ghost-team"},
        {"row": 10, "job_name": "r8c", "error": "Invalid PIC team",
         "message": "PIC team is disabled. Enable it in Settings → PIC Teams or choose another.",
         "pic_team": "Retired", "pic_team_slug": "retired"},
        {"row": 11, "error": "Missing required fields", "message": "name and cron_expression are required."},
        {"row": 12, "error": "Missing required fields", "message": "name and cron_expression are required."},
        {"row": 14, "job_name": "ok", "error": "Duplicate job name in CSV"},
        {"row": 15, "job_name": "existing", "error": "Duplicate job name",
         "message": 'A job with the name "existing" already exists.'},
        {"row": 16, "job_name": "r12", "error": "Invalid cron expression",
         "message": "Cron expression must have exactly 5 fields (minute hour day month day-of-week)."},
        {"row": 17, "job_name": "r13", "error": "Invalid JSON in Request Body", "message": "<parser>"},
        {"row": 18, "job_name": "r14", "error": "Invalid Request Body",
         "message": "Request Body must be a JSON object."},
        {"row": 19, "job_name": "r16", "error": "Missing target configuration",
         "message": "Provide target_url or GitHub config (github_owner, github_repo, github_workflow_name)."},
    ]
    assert (body["created_count"], body["error_count"]) == (1, 17)
    assert [job["name"] for job in body["jobs"]] == ["ok"]


class TestWithoutDefaultOwner:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"DEFAULT_GITHUB_OWNER": ""}

    def test_github_row_without_any_owner_is_missing_github_owner(
        self, api: ApiClient, db: Session, user_token: str, end: str
    ) -> None:
        text = csv_text(SPA_HEADER, f"orphan,api,run.yml,,0 2 * * *,,{end},team-a,")
        response = upload(api, user_token, text)
        assert response.status_code == 400
        assert response.json()["errors"] == [{
            "row": 2, "job_name": "orphan", "error": "Missing GitHub owner",
            "message": 'Provide "github_owner" column or default_github_owner.',
        }]
        assert job_count(db) == 0

    def test_form_default_owner_fills_in(self, api: ApiClient, db: Session, user_token: str, end: str) -> None:
        text = csv_text(SPA_HEADER, f"orphan,api,run.yml,,0 2 * * *,,{end},team-a,")
        assert upload(api, user_token, text, default_github_owner="form-org").status_code == 200
        assert jobs_by_name(db)["orphan"].github_owner == "form-org"


def test_duplicate_of_existing_job_and_of_earlier_row_are_reported_apart(
    api: ApiClient, db: Session, factory: Factory, user: User, user_token: str, end: str
) -> None:
    factory.job(user, name="taken")
    text = csv_text(
        "name,cron,url,end date,pic team",
        f"taken,0 1 * * *,https://h.example.com,{end},team-a",
        f"fresh,0 1 * * *,https://h.example.com,{end},team-a",
        f"fresh,0 2 * * *,https://h.example.com,{end},team-a",
    )
    body = upload(api, user_token, text).json()
    assert body["errors"] == [
        {"row": 2, "job_name": "taken", "error": "Duplicate job name",
         "message": 'A job with the name "taken" already exists.'},
        {"row": 4, "job_name": "fresh", "error": "Duplicate job name in CSV"},
    ]
    created = jobs_by_name(db)
    assert created["fresh"].cron_expression == "0 1 * * *"
    assert created["taken"].created_by == user.id  # the factory's job, untouched


# --- dry run and outcomes ------------------------------------------------------------------


def test_dry_run_validates_and_writes_nothing(
    api: ApiClient, db: Session, user_token: str, end: str
) -> None:
    text = csv_text(
        SPA_HEADER,
        f"n1,acme/api,run.yml,,0 2 * * *,off,{end},Team A,",
        f"n2,acme/api,run.yml,,0 2 * * *,,{end},ghost,",
    )
    response = upload(api, user_token, text, dry_run="yes")
    assert response.status_code == 200
    assert response.json() == {
        "message": "CSV validated successfully",
        "dry_run": True,
        "stats": stats(9, 2),
        "created_count": 1,
        "error_count": 1,
        "errors": [{
            "row": 3, "job_name": "n2", "error": "Invalid PIC team",
            "message": "Unknown PIC team. Create it in Settings → PIC Teams first.",
            "pic_team": "ghost", "pic_team_slug": "ghost",
        }],
        "jobs": [{"name": "n1", "is_active": False, "cron_expression": "0 2 * * *", "end_date": end,
                  "pic_team": "team-a"}],
    }
    assert job_count(db) == 0


@pytest.mark.parametrize("word", ["1", "true", "YES", "y", "on"])
def test_dry_run_truthy_words(api: ApiClient, db: Session, user_token: str, end: str, word: str) -> None:
    text = csv_text("name,cron,url,end date,pic team", f"n,0 1 * * *,https://h.example.com,{end},team-a")
    assert upload(api, user_token, text, dry_run=word).json()["dry_run"] is True
    assert job_count(db) == 0


def test_dry_run_false_word_is_a_real_run(api: ApiClient, db: Session, user_token: str, end: str) -> None:
    text = csv_text("name,cron,url,end date,pic team", f"n,0 1 * * *,https://h.example.com,{end},team-a")
    assert upload(api, user_token, text, dry_run="false").json()["dry_run"] is False
    assert job_count(db) == 1


def test_real_run_with_only_errors_is_400_with_result_keys(
    api: ApiClient, db: Session, user_token: str, end: str
) -> None:
    text = csv_text("name,cron,url,end date,pic team", f"n,0 1 * *,https://h.example.com,{end},team-a")
    response = upload(api, user_token, text)
    assert response.status_code == 400
    body = response.json()
    assert set(body) == RESULT_KEYS | {"error"}
    assert {key: body[key] for key in ("error", "message")} == REAL_FAILURE
    assert (body["dry_run"], body["created_count"], body["error_count"], body["jobs"]) == (False, 0, 1, [])
    assert body["stats"] == stats(5, 1)
    assert body["errors"][0]["error"] == "Invalid cron expression"
    assert job_count(db) == 0


def test_dry_run_with_only_errors_is_400_with_result_keys(
    api: ApiClient, user_token: str, end: str
) -> None:
    text = csv_text("name,cron,url,end date,pic team", f"n,0 1 * *,https://h.example.com,{end},team-a")
    response = upload(api, user_token, text, dry_run="1")
    assert response.status_code == 400
    body = response.json()
    assert set(body) == RESULT_KEYS | {"error"}
    assert {key: body[key] for key in ("error", "message")} == DRY_FAILURE
    assert (body["dry_run"], body["created_count"], body["error_count"]) == (True, 0, 1)


def test_some_valid_rows_make_a_200_with_errors(api: ApiClient, user_token: str, end: str) -> None:
    text = csv_text(
        "name,cron,url,end date,pic team",
        f"good,0 1 * * *,https://h.example.com,{end},team-a",
        f"bad,0 1 * *,https://h.example.com,{end},team-a",
    )
    response = upload(api, user_token, text)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == RESULT_KEYS
    assert (body["message"], body["created_count"], body["error_count"]) == ("Bulk upload processed", 1, 1)


# --- request-level errors ------------------------------------------------------------------


def test_missing_file_part(api: ApiClient, user_token: str) -> None:
    response = api.post("/jobs/bulk-upload", token=user_token,
                        files={"other": ("jobs.csv", b"a\n", "text/csv")}, data={"dry_run": "1"})
    assert response.status_code == 400
    assert response.json() == {"error": "Missing file", "message": 'Upload a CSV file using form field "file".'}


def test_non_multipart_body_is_missing_file(api: ApiClient, user_token: str) -> None:
    response = api.post("/jobs/bulk-upload", token=user_token, json={"file": "name\n"})
    assert response.status_code == 400
    assert response.json() == {"error": "Missing file", "message": 'Upload a CSV file using form field "file".'}


def test_empty_filename(api: ApiClient, user_token: str) -> None:
    # What a browser sends when no file was chosen (httpx would drop an empty filename).
    content = (b'--b\r\nContent-Disposition: form-data; name="file"; filename=""\r\n'
               b"Content-Type: application/octet-stream\r\n\r\n\r\n--b--\r\n")
    response = api.post("/jobs/bulk-upload", token=user_token, content=content,
                        headers={"Content-Type": "multipart/form-data; boundary=b"})
    assert response.status_code == 400
    assert response.json() == {"error": "Missing file", "message": "No file selected."}


def test_empty_csv(api: ApiClient, user_token: str) -> None:
    response = upload(api, user_token, b"")
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid CSV", "message": "CSV is empty."}


def test_header_without_usable_names(api: ApiClient, user_token: str) -> None:
    response = upload(api, user_token, ",  ,\r\nx,y,z\r\n")
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid CSV", "message": "CSV header row has no usable column names."}


def test_viewer_is_refused_by_the_role_gate(api: ApiClient, factory: Factory, viewer: User) -> None:
    response = upload(api, factory.token(viewer), csv_text(SPA_HEADER))
    assert response.status_code == 403
    assert response.json() == {
        "error": "Insufficient permissions",
        "message": "This endpoint requires one of the following roles: admin, user",
    }


def test_upload_requires_authentication(api: ApiClient) -> None:
    response = api.post("/jobs/bulk-upload", files={"file": ("jobs.csv", b"name\n", "text/csv")})
    assert response.status_code == 401


class TestSizeLimit:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"BULK_UPLOAD_MAX_BYTES": 200}

    def test_csv_over_the_limit_is_413_and_writes_nothing(
        self, api: ApiClient, db: Session, user_token: str, end: str
    ) -> None:
        rows = [f"job-{n},0 1 * * *,https://h.example.com,{end},team-a" for n in range(10)]
        content = csv_text("name,cron,url,end date,pic team", *rows).encode()
        assert len(content) > 200
        response = upload(api, user_token, content)
        assert response.status_code == 413
        assert response.json() == {"error": "Payload too large", "message": "CSV file exceeds 200 bytes."}
        assert job_count(db) == 0

    def test_csv_at_the_limit_is_accepted(self, api: ApiClient, db: Session, user_token: str, end: str) -> None:
        content = csv_text("name,cron,url,end date,pic team", f"j,0 1 * * *,https://h.example.com,{end},team-a")
        padded = content.encode().ljust(200, b"\n")
        assert upload(api, user_token, padded).status_code == 200
        assert job_count(db) == 1


# --- cost ----------------------------------------------------------------------------------


def test_a_one_mebibyte_csv_imports_every_row(
    api: ApiClient, db: Session, user_token: str, settings: Settings, end: str
) -> None:
    lines = [SPA_HEADER]
    size = len(SPA_HEADER) + 2
    n = 0
    while True:
        line = (f'bulk-job-{n:06d},acme/repo-{n % 50},workflow-{n % 7}.yml,main,{n % 60} {n % 24} * * *,'
                f'Active,{end},team-a,"{{""suite"": ""s{n}""}}"')
        if size + len(line) + 2 > settings.BULK_UPLOAD_MAX_BYTES:
            break
        lines.append(line)
        size += len(line) + 2
        n += 1
    response = upload(api, user_token, csv_text(*lines))
    assert response.status_code == 200
    assert response.json()["created_count"] == n
    assert job_count(db) == n


@pytest.fixture
def flask_app(settings: Settings) -> Iterator[Any]:
    from src.flask_app import create_app

    app = create_app(settings)
    yield app
    app.extensions["runtime"].close()


def count_upload_statements(app: Any, token: str, content: str) -> int:
    with app.app_context():
        engine = app.extensions["sqlalchemy"].engine
    with counting(engine) as statements:
        response = app.test_client().post(
            "/api/jobs/bulk-upload", headers={"Authorization": f"Bearer {token}"},
            data={"file": (io.BytesIO(content.encode()), "jobs.csv")}, content_type="multipart/form-data",
        )
    assert response.status_code == 200, response.json
    return len(statements)


@legacy_door
def test_upload_uses_the_same_number_of_statements_for_5_and_200_rows(
    flask_app: Any, user_token: str, end: str
) -> None:
    def rows(prefix: str, n: int) -> str:
        return csv_text("name,cron,url,category,end date,pic team",
                        *(f"{prefix}-{i},0 1 * * *,https://h.example.com,general,{end},Team A" for i in range(n)))

    assert count_upload_statements(flask_app, user_token, rows("few", 5)) == \
        count_upload_statements(flask_app, user_token, rows("many", 200))

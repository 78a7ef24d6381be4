"""Contract parity: the same calls on both doors, against one database, give the same answers.

Every case is replayed on the Flask door (/api) and the FastAPI door (/api/v2); status codes and
JSON bodies are compared field by field. Only fields that must differ are excluded, by name: ids
and timestamps of rows each door creates itself, tokens, the health timestamp. Write cases run
from the same starting state on each door (the SQLite file is restored between the two calls).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from src.config import Settings
from src.core.clock import local_today
from src.database.engines import create_sync_engine_from_settings, make_session_factory
from src.models import JobCategory
from tests.api.conftest import fastapi_http, flask_http
from tests.conftest import Factory, legacy_door, make_settings
from tests.parity.conftest import Doors, Snapshot, World, seed_world, sqlite_path
from tests.parity.contract_table import contract_endpoints, normalize
from tests.receivers import Receiver, receiver  # noqa: F401  # pytest fixtures, imported so tests can request them

# Compares the Flask door with the FastAPI door.
pytestmark = legacy_door

END = (local_today(ZoneInfo("Asia/Tokyo")) + timedelta(days=30)).isoformat()
NEW_ROW = frozenset({"id", "created_at", "updated_at"})
CHANGED_ROW = frozenset({"updated_at"})
MISSING = object()


@dataclass(frozen=True)
class Case:
    """One call: path/body placeholders like `{owner_job}` name seeded rows."""

    name: str
    method: str
    path: str
    status: int
    token: str | None = "user"
    json: Any = MISSING
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    files: dict[str, Any] | None = None
    data: dict[str, str] | None = None
    writes: bool = False
    differ: frozenset[str] = frozenset()
    prefixed: bool = True


def read(name: str, path: str, status: int = 200, token: str | None = "user", **kw: Any) -> Case:
    return Case(name, "GET", path, status, token, **kw)


def call(name: str, method: str, path: str, status: int, token: str | None = "user", **kw: Any) -> Case:
    return Case(name, method, path, status, token, **kw)


def write(name: str, method: str, path: str, status: int, token: str | None = "user", **kw: Any) -> Case:
    return Case(name, method, path, status, token, writes=True, **kw)


TEXT = {"Content-Type": "text/plain"}
JSON = {"Content-Type": "application/json"}
CSV_HEADER = "Job Name,Repo,Workflow Name,Branch,Cron schedule (JST),Status,End Date,PIC Team,Request Body"


def csv(*lines: str) -> dict[str, Any]:
    return {"file": ("jobs.csv", ("\r\n".join(lines) + "\r\n").encode(), "text/csv")}


READS = [
    # health, auth, users, preferences
    read("health", "/health", token=None, differ=frozenset({"timestamp"})),
    read("health-unprefixed", "/health", token=None, differ=frozenset({"timestamp"}), prefixed=False),
    read("auth-verify", "/auth/verify"),
    read("auth-me", "/auth/me"),
    read("auth-me-admin", "/auth/me", token="admin"),
    read("auth-users", "/auth/users", token="admin"),
    read("auth-user-self", "/auth/users/{owner}"),
    read("auth-user-by-admin", "/auth/users/{other}", token="admin"),
    read("preferences-stored", "/auth/users/{owner}/preferences"),
    read("preferences-created-on-read", "/auth/users/{other}/preferences", token="admin"),
    read("ui-preferences", "/auth/users/{owner}/ui-preferences"),
    # jobs, executions, statistics
    read("jobs", "/jobs"),
    read("jobs-as-viewer", "/jobs", token="viewer"),
    read("job-webhook", "/jobs/{admin_job}"),
    read("job-github", "/jobs/{owner_job}"),
    read("job-paused", "/jobs/{paused_job}"),
    read("job-orphan", "/jobs/{orphan_job}"),
    read("job-executions", "/jobs/{owner_job}/executions"),
    read("job-executions-filtered", "/jobs/{owner_job}/executions?status=failed,running&limit=1"),
    read("job-executions-trigger", "/jobs/{owner_job}/executions?trigger_type=manual"),
    read("job-executions-range", "/jobs/{owner_job}/executions?from=2025-01-11&to=2025-01-11"),
    read("job-executions-none", "/jobs/{orphan_job}/executions"),
    read("job-execution-stats", "/jobs/{owner_job}/executions/stats"),
    read("job-execution-stats-empty", "/jobs/{orphan_job}/executions/stats"),
    read("job-execution", "/jobs/{owner_job}/executions/{run_failed}"),
    read("executions", "/executions"),
    read("executions-paged", "/executions?page=2&limit=2"),
    read("executions-past-end", "/executions?page=9&limit=2"),
    read("executions-clamped", "/executions?page=abc&limit=999"),
    read("executions-filtered", "/executions?job_id={owner_job}&status=failed,running&trigger_type=scheduled"),
    read("executions-by-type", "/executions?execution_type=webhook"),
    read("executions-range", "/executions?from=2025-01-11T00:00:00Z&to=2025-01-13"),
    read("executions-unknown-job", "/executions?job_id=nonexistent"),
    read("execution-statistics", "/executions/statistics"),
    read("execution-statistics-range", "/executions/statistics?from=2025-01-11&to=2025-01-12"),
    read("execution-statistics-job", "/executions/statistics?job_id={owner_job}"),
    read("stats-executions-alias", "/stats/executions?job_id={admin_job}"),
    read("execution", "/executions/{run_success}"),
    # categories, teams, notifications, settings, scheduler
    read("categories", "/job-categories"),
    read("categories-inactive-admin", "/job-categories?include_inactive=true", token="admin"),
    read("categories-inactive-ignored-for-user", "/job-categories?include_inactive=true"),
    read("categories-alias", "/categories?include_inactive=1", token="admin"),
    read("pic-teams", "/pic-teams"),
    read("pic-teams-inactive-admin", "/pic-teams?include_inactive=yes", token="admin"),
    read("teams-alias", "/teams", token="viewer"),
    read("notifications", "/notifications"),
    read("notifications-unread-paged", "/notifications?unread_only=true&page=1&per_page=1"),
    read("notifications-clamped", "/notifications?per_page=0&page=-3"),
    read("notifications-range", "/notifications?from=2025-01-12&to=2025-01-12"),
    read("notifications-other-user", "/notifications", token="other"),
    read("unread-count", "/notifications/unread-count"),
    read("unread-count-range", "/notifications/unread-count?from=2025-01-14T00:00:00%2B09:00"),
    read("slack-settings", "/settings/slack", token="admin"),
    read("scheduler-status", "/scheduler/status", token="admin"),
    # cron tools answer reads through POST
    call("validate-cron", "POST", "/jobs/validate-cron", 200, json={"expression": "0 2 * * *"}),
    call("validate-cron-invalid", "POST", "/jobs/validate-cron", 200, json={"expression": "61 * * * *"}),
    call("validate-cron-alias", "POST", "/cron/validate", 200, json={"cron_expression": "0 2 * *"}),
    call("cron-preview", "POST", "/jobs/cron-preview", 200, token="viewer",
         json={"expression": "0 2 * * *", "count": 3}),
    call("cron-preview-alias", "POST", "/cron/next-runs", 200, json={"cron_expression": "0 0 31 2 *"}),
    call("cron-description", "POST", "/jobs/cron-description", 200, json={"expression": " 30 4 * * 1 "}),
    call("cron-description-invalid", "POST", "/jobs/cron-description", 200, json={"expression": "bad"}),
]

ERRORS = [
    # routing
    read("unknown-route", "/nope", 404),
    read("unknown-nested-route", "/jobs/{owner_job}/executions/{run_failed}/more", 404),
    read("unknown-unauthenticated-route", "/nope", 404, token=None),
    call("method-not-allowed", "DELETE", "/jobs", 405),
    call("method-not-allowed-login", "GET", "/auth/login", 405, token=None),
    call("method-not-allowed-on-id", "POST", "/jobs/{owner_job}", 405),
    # request parsing (1.2)
    call("login-bad-content-type", "POST", "/auth/login", 400, token=None, content=b"x", headers=TEXT),
    call("login-no-content-type", "POST", "/auth/login", 400, token=None, content=b'{"username": "bob"}'),
    call("login-malformed-json", "POST", "/auth/login", 400, token=None, content=b"{bad", headers=JSON),
    call("login-non-object-json", "POST", "/auth/login", 400, token=None, content=b"[1, 2]", headers=JSON),
    call("create-job-bad-content-type", "POST", "/jobs", 400, content=b"name=x", headers=TEXT),
    call("create-job-malformed-json", "POST", "/jobs", 400, content=b'{"name": ', headers=JSON),
    call("create-job-non-object-json", "POST", "/jobs", 400, content=b'"job"', headers=JSON),
    call("slack-settings-bad-content-type", "PUT", "/settings/slack", 400, token="admin",
         content=b"{}", headers=TEXT),
    call("validate-cron-non-object", "POST", "/jobs/validate-cron", 400, content=b"null", headers=JSON),
    call("cron-preview-count-not-number", "POST", "/jobs/cron-preview", 400,
         json={"expression": "0 2 * * *", "count": "many"}),
    call("json-body-over-limit", "POST", "/jobs/validate-cron", 413,
         content=b'{"expression": "' + b"x" * (1024 * 1024 + 10) + b'"}', headers=JSON),
    # authentication (1.4), in check order
    read("missing-token", "/jobs", 401, token=None),
    read("malformed-authorization", "/jobs", 401, token=None, headers={"Authorization": "Token abc"}),
    read("bearer-without-token", "/jobs", 401, token=None, headers={"Authorization": "Bearer"}),
    read("garbage-token", "/jobs", 401, token="garbage"),
    read("token-signed-with-another-secret", "/jobs", 401, token="foreign"),
    read("expired-token", "/jobs", 401, token="expired"),
    read("refresh-token-as-access", "/jobs", 401, token="user_refresh"),
    call("access-token-as-refresh", "POST", "/auth/refresh", 401),
    read("revoked-token", "/auth/me", 401, token="revoked"),
    read("inactive-user-token", "/auth/me", 401, token="inactive"),
    read("deleted-user-token", "/auth/me", 401, token="ghost"),
    # role gates (before 404s)
    call("viewer-create-job", "POST", "/jobs", 403, token="viewer", json={}),
    call("viewer-execute-missing-job", "POST", "/jobs/nonexistent/execute", 403, token="viewer"),
    read("user-list-users", "/auth/users", 403),
    call("user-register", "POST", "/auth/register", 403, json={}),
    call("user-delete-user", "DELETE", "/auth/users/nonexistent", 403),
    read("user-slack-settings", "/settings/slack", 403),
    read("viewer-scheduler-status", "/scheduler/status", 403, token="viewer"),
    call("user-scheduler-resync", "POST", "/scheduler/resync", 403),
    call("user-create-category", "POST", "/job-categories", 403, json={"name": "x"}),
    call("viewer-update-team", "PUT", "/teams/{team}", 403, token="viewer", json={"name": "x"}),
    call("viewer-bulk-upload", "POST", "/jobs/bulk-upload", 403, token="viewer", files=csv(CSV_HEADER)),
    call("viewer-test-run", "POST", "/jobs/test-run", 403, token="viewer", json={}),
    # ownership and other users' resources
    call("update-someone-elses-job", "PUT", "/jobs/{admin_job}", 403, json={"name": "x"}),
    call("viewer-update-job", "PUT", "/jobs/{owner_job}", 403, token="viewer", json={}),
    call("update-orphan-job", "PUT", "/jobs/{orphan_job}", 403, json={}),
    call("delete-someone-elses-job", "DELETE", "/jobs/{admin_job}", 403),
    call("execute-someone-elses-job", "POST", "/jobs/{admin_job}/execute", 403),
    read("view-other-profile", "/auth/users/{other}", 403),
    read("view-missing-profile-as-user", "/auth/users/nonexistent", 403),
    call("update-other-profile", "PUT", "/auth/users/{other}", 403, json={"email": "x@example.com"}),
    call("change-own-role", "PUT", "/auth/users/{owner}", 403, json={"role": "user"}),
    read("other-preferences", "/auth/users/{other}/preferences", 403),
    call("update-other-ui-preferences", "PUT", "/auth/users/{other}/ui-preferences", 403, json={}),
    call("mark-other-users-notification", "PUT", "/notifications/{note_other}/read", 403),
    call("delete-other-users-notification", "DELETE", "/notifications/{note_other}", 403),
    # not found
    read("job-not-found", "/jobs/nonexistent", 404),
    call("update-job-not-found", "PUT", "/jobs/nonexistent", 404, content=b"x", headers=TEXT),
    call("delete-job-not-found", "DELETE", "/jobs/nonexistent", 404),
    call("execute-job-not-found", "POST", "/jobs/nonexistent/execute", 404),
    read("job-executions-job-not-found", "/jobs/nonexistent/executions?from=bad", 404),
    read("job-execution-stats-not-found", "/jobs/nonexistent/executions/stats", 404),
    read("job-execution-of-other-job", "/jobs/{admin_job}/executions/{run_failed}", 404),
    read("execution-not-found", "/executions/nonexistent", 404),
    read("user-not-found", "/auth/users/nonexistent", 404, token="admin"),
    read("preferences-user-not-found", "/auth/users/nonexistent/preferences", 404, token="admin"),
    read("ui-preferences-user-not-found", "/auth/users/nonexistent/ui-preferences", 404, token="admin"),
    call("update-category-not-found", "PUT", "/job-categories/nonexistent", 404, token="admin", json={}),
    call("delete-category-not-found", "DELETE", "/categories/nonexistent", 404, token="admin"),
    call("update-team-not-found", "PUT", "/pic-teams/nonexistent", 404, token="admin", json={}),
    call("delete-team-not-found", "DELETE", "/teams/nonexistent", 404, token="admin"),
    call("mark-notification-not-found", "PUT", "/notifications/nonexistent/read", 404),
    call("delete-notification-not-found", "DELETE", "/notifications/nonexistent", 404),
    # dates (1.7)
    read("executions-invalid-date", "/executions?from=yesterday", 400),
    read("executions-inverted-range", "/executions?from=2025-02-01&to=2025-01-01", 400),
    read("job-executions-invalid-date", "/jobs/{owner_job}/executions?to=2025-13-01", 400),
    read("statistics-invalid-date", "/executions/statistics?to=31/01/2025", 400),
    read("notifications-invalid-date", "/notifications?from=nope", 400),
    read("unread-count-inverted-range", "/notifications/unread-count?from=2025-01-02&to=2025-01-01", 400),
    call("delete-read-invalid-date", "DELETE", "/notifications/delete-read?to=bad", 400),
    # validation and business rules
    call("create-job-missing-fields", "POST", "/jobs", 400, json={"name": "x"}),
    call("create-job-duplicate-name", "POST", "/jobs", 400,
         json={"name": "owner-github", "cron_expression": "0 2 * * *", "end_date": END, "pic_team": "team-a",
               "target_url": "http://127.0.0.1:9/hook"}),
    call("create-job-invalid-cron", "POST", "/jobs", 400,
         json={"name": "new", "cron_expression": "0 2 * *", "end_date": END, "pic_team": "team-a",
               "target_url": "http://127.0.0.1:9/hook"}),
    call("create-job-inactive-team", "POST", "/jobs", 400,
         json={"name": "new", "cron_expression": "0 2 * * *", "end_date": END, "pic_team": "old-team",
               "target_url": "http://127.0.0.1:9/hook"}),
    call("create-job-past-end-date", "POST", "/jobs", 400,
         json={"name": "new", "cron_expression": "0 2 * * *", "end_date": "2020-01-01", "pic_team": "team-a",
               "target_url": "http://127.0.0.1:9/hook"}),
    call("update-job-invalid-cron", "PUT", "/jobs/{owner_job}", 400, json={"cron_expression": "x"}),
    call("update-expired-job", "PUT", "/jobs/{expired_job}", 400, json={"name": "still-expired"}),
    call("cron-preview-invalid", "POST", "/jobs/cron-preview", 400, json={"expression": "* * *"}),
    call("execute-paused-job", "POST", "/jobs/{paused_job}/execute", 400),
    call("execute-with-bad-metadata", "POST", "/jobs/{owner_job}/execute", 400, json={"metadata": [1]}),
    call("login-missing-password", "POST", "/auth/login", 400, token=None, json={"username": "bob"}),
    call("login-wrong-password", "POST", "/auth/login", 401, token=None,
         json={"username": "bob", "password": "wrong-password"}),
    call("login-unknown-user", "POST", "/auth/login", 401, token=None, json={"email": "x@y.z", "password": "p"}),
    call("login-inactive-user", "POST", "/auth/login", 401, token=None,
         json={"username": "erin", "password": "secret123"}),
    call("login-form-missing-field", "POST", "/auth/login/form", 400, token=None, data={"username": "bob"}),
    call("register-missing-fields", "POST", "/auth/register", 400, token="admin", json={"email": ""}),
    call("register-duplicate-username", "POST", "/auth/register", 409, token="admin",
         json={"username": "bob", "email": "new@example.com", "password": "secret123"}),
    call("register-invalid-role", "POST", "/auth/register", 400, token="admin",
         json={"username": "zed", "email": "zed@example.com", "password": "secret123", "role": "root"}),
    call("update-user-email-taken", "PUT", "/auth/users/{owner}", 409, json={"email": "CAROL@example.com"}),
    call("update-user-nothing", "PUT", "/auth/users/{owner}", 400, json={"username": "renamed"}),
    call("delete-self", "DELETE", "/auth/users/{admin}", 400, token="admin"),
    call("ui-preferences-missing-columns", "PUT", "/auth/users/{owner}/ui-preferences", 400, json={}),
    call("ui-preferences-not-object", "PUT", "/auth/users/{owner}/ui-preferences", 400,
         json={"jobs_table_columns": [1]}),
    call("create-category-duplicate", "POST", "/job-categories", 409, token="admin", json={"name": "Nightly Checks"}),
    call("create-category-no-name", "POST", "/categories", 400, token="admin", json={"name": "  "}),
    call("rename-general-category", "PUT", "/job-categories/{general}", 400, token="admin", json={"name": "Misc"}),
    call("edit-category-slug", "PUT", "/job-categories/{category}", 400, token="admin", json={"slug": "x"}),
    call("create-team-no-handle", "POST", "/pic-teams", 400, token="admin", json={"name": "Team Z"}),
    call("create-team-duplicate", "POST", "/teams", 409, token="admin", json={"name": "Team A", "slack_handle": "@a"}),
    call("update-team-blank-handle", "PUT", "/pic-teams/{team}", 400, token="admin", json={"slack_handle": " "}),
    call("slack-enabled-without-url", "PUT", "/settings/slack", 400, token="admin", json={"is_enabled": True}),
    call("scheduler-resync-not-leader", "POST", "/scheduler/resync", 409, token="admin"),
    call("test-run-missing-target", "POST", "/jobs/test-run", 400, json={"metadata": {}}),
    call("test-run-bad-metadata", "POST", "/cron/test-run", 400, json={"metadata": "x"}),
    call("test-run-bad-scheme", "POST", "/jobs/test-run", 400, json={"target_url": "ftp://127.0.0.1/x"}),
    # bulk upload request-level and all-rows-invalid 400s
    call("bulk-upload-no-file", "POST", "/jobs/bulk-upload", 400, data={"dry_run": "1"}),
    call("bulk-upload-empty-file", "POST", "/jobs/bulk-upload", 400,
         files={"file": ("jobs.csv", b"", "text/csv")}),
    call("bulk-upload-blank-header", "POST", "/jobs/bulk-upload", 400, files=csv(" , ")),
    call("bulk-upload-all-rows-invalid", "POST", "/jobs/bulk-upload", 400,
         files=csv(CSV_HEADER, f"bad-cron,api,run.yml,,0 2 * *,,{END},team-a,",
                   f"owner-github,api,run.yml,,0 2 * * *,,{END},team-a,",
                   f"bad-team,api,run.yml,,0 2 * * *,,{END},nobody,")),
    call("bulk-upload-dry-run-invalid", "POST", "/jobs/bulk-upload", 400, data={"dry_run": "true"},
         files=csv(CSV_HEADER, "bad-end,api,run.yml,,0 2 * * *,,2020-01-01,team-a,")),
]

JOB_BODY = {"name": "parity-job", "cron_expression": "15 3 * * *", "end_date": END, "pic_team": "Team A",
            "category": "Nightly Checks", "github_repo": "web", "github_workflow_name": "deploy.yml",
            "metadata": {"ref": "main"}, "enable_email_notifications": True,
            "notification_emails": "a@example.com, b@example.com", "notify_on_success": True}

WRITES = [
    write("login", "POST", "/auth/login", 200, token=None, json={"username": " bob ", "password": "secret123"},
          differ=frozenset({"access_token", "refresh_token"})),
    write("login-by-email", "POST", "/auth/login", 200, token=None,
          json={"email": "alice@example.com", "password": "secret123"},
          differ=frozenset({"access_token", "refresh_token"})),
    write("login-form", "POST", "/auth/login/form", 200, token=None,
          data={"username": "dave", "password": "secret123", "grant_type": "password"},
          differ=frozenset({"access_token", "refresh_token"})),
    write("refresh", "POST", "/auth/refresh", 200, token="user_refresh", differ=frozenset({"access_token"})),
    write("logout", "POST", "/auth/logout", 200),
    write("register", "POST", "/auth/register", 201, token="admin",
          json={"username": " Zed ", "email": "ZED@Example.com", "password": "secret123", "role": "user"},
          differ=NEW_ROW),
    write("update-user", "PUT", "/auth/users/{owner}", 200, token="admin",
          json={"email": "bob2@example.com", "password": "newsecret", "role": "viewer", "is_active": True},
          differ=CHANGED_ROW),
    write("delete-user", "DELETE", "/auth/users/{other}", 200, token="admin"),
    write("update-preferences", "PUT", "/auth/users/{owner}/preferences", 200,
          json={"weekly_report": 1, "email_on_job_failure": "false"}, differ=CHANGED_ROW),
    write("update-ui-preferences", "PUT", "/auth/users/{owner}/ui-preferences", 200,
          json={"jobs_table_columns": {"target_url": True, "end_date": 0, "unknown": True}}),
    write("create-job", "POST", "/jobs", 201, json=JOB_BODY, differ=NEW_ROW),
    write("update-job", "PUT", "/jobs/{owner_job}", 200,
          json={"name": "owner-github-2", "metadata": None, "is_active": False}, differ=CHANGED_ROW),
    write("update-job-empty-body", "PUT", "/jobs/{owner_job}", 200, json={}, differ=CHANGED_ROW),
    write("delete-job", "DELETE", "/jobs/{owner_job}", 200),
    write("execute-job", "POST", "/jobs/{admin_job}/execute", 200, token="admin",
          json={"metadata": {"k": "v"}}, differ=frozenset({"execution_id"})),
    write("execute-expired-job", "POST", "/jobs/{expired_job}/execute", 400),
    write("test-run-webhook", "POST", "/jobs/test-run", 200, json={"target_url": "{receiver}/test"}),
    write("bulk-upload", "POST", "/jobs/bulk-upload", 200,
          files=csv(CSV_HEADER, f"bulk-one,acme/web,deploy.yml,main,0 5 * * *,Active,{END},team-a,",
                    f"bad-cron,api,run.yml,,0 2 * *,,{END},team-a,"),
          differ=frozenset({"id"})),
    write("bulk-upload-dry-run", "POST", "/jobs/bulk-upload", 200, data={"dry_run": "yes"},
          files=csv(CSV_HEADER, f"bulk-dry,api,run.yml,,0 5 * * *,,{END},Team A,")),
    write("create-category", "POST", "/job-categories", 201, token="admin", json={"name": "Smoke Tests"},
          differ=NEW_ROW),
    write("rename-category", "PUT", "/categories/{category}", 200, token="admin", json={"name": "Regress"},
          differ=CHANGED_ROW),
    write("disable-category", "DELETE", "/job-categories/{category}", 200, token="admin", differ=CHANGED_ROW),
    write("create-team", "POST", "/pic-teams", 201, token="admin", json={"name": "QA Team", "slack_handle": "@qa"},
          differ=NEW_ROW),
    write("update-team", "PUT", "/teams/{team}", 200, token="admin",
          json={"name": "Team Alpha", "slack_handle": "<!subteam^S1>"}, differ=CHANGED_ROW),
    write("disable-team", "DELETE", "/pic-teams/{team}", 200, token="admin", differ=CHANGED_ROW),
    write("mark-read", "PUT", "/notifications/{note_unread}/read", 200, differ=frozenset({"read_at"})),
    write("mark-read-already-read", "PUT", "/notifications/{note_read}/read", 200),
    write("mark-all-read", "PUT", "/notifications/read-all", 200),
    write("delete-notification", "DELETE", "/notifications/{note_unread}", 200),
    write("delete-read", "DELETE", "/notifications/delete-read", 200),
    write("delete-read-alias-range", "DELETE", "/notifications/read?from=2025-01-13", 200),
    write("update-slack-settings", "PUT", "/settings/slack", 200, token="admin",
          json={"is_enabled": True, "webhook_url": " https://hooks.example.com/x ", "channel": ""},
          differ=NEW_ROW),
]

CASES = READS + ERRORS + WRITES


@dataclass
class Seeded:
    doors: Doors
    world: World
    values: dict[str, str]
    snapshot: Snapshot


@contextmanager
def seeded_world(settings: Settings, receiver_url: str) -> Iterator[Seeded]:
    """Both doors on `settings`' database, the world seeded, and a snapshot of that state."""
    engine = create_sync_engine_from_settings(settings)
    session = make_session_factory(engine)()
    try:
        world = seed_world(Factory(session, settings), session, settings, f"{receiver_url}/hook")
        general = session.scalar(select(JobCategory.id).where(JobCategory.slug == "general"))
        values = {**world.ids, "general": general or "missing", "receiver": receiver_url}
        snapshot = Snapshot(sqlite_path(settings))
        with flask_http(settings) as legacy, fastapi_http(settings) as new:
            yield Seeded(Doors(legacy, new), world, values, snapshot)
        snapshot.close()
    finally:
        session.close()
        engine.dispose()


@pytest.fixture(scope="module")
def shared(migrated_template: Path | str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """One seeded database and one app per door for all cases (each case restores the snapshot).

    Module-scoped on purpose: starting two apps and seeding per case would cost ~0.3 s x 200.
    """
    if not isinstance(migrated_template, Path):
        pytest.skip("the parity cases snapshot a SQLite file")
    path = tmp_path_factory.mktemp("parity") / "parity.db"
    shutil.copyfile(migrated_template, path)
    server = Receiver().start()
    try:
        with seeded_world(make_settings(f"sqlite:///{path}"), server.url) as seeded:
            yield seeded
    finally:
        server.stop()


@pytest.fixture
def seeded(settings: Settings, receiver: Receiver) -> Iterator[Seeded]:  # noqa: F811  # the imported pytest fixture, injected by name
    with seeded_world(settings, receiver.url) as world:
        yield world


def fill(value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format_map(values) if "{" in value else value
    if isinstance(value, dict):
        return {key: fill(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [fill(item, values) for item in value]
    return value


def send(client: httpx.Client, prefix: str, case: Case, seeded: Seeded) -> httpx.Response:
    headers = dict(case.headers)
    if case.token is not None:
        headers["Authorization"] = f"Bearer {seeded.world.tokens[case.token]}"
    kwargs: dict[str, Any] = {"headers": headers}
    if case.json is not MISSING:
        kwargs["json"] = fill(case.json, seeded.values)
    if case.content is not None:
        kwargs["content"] = case.content
    if case.files is not None:
        kwargs["files"] = case.files
    if case.data is not None:
        kwargs["data"] = case.data
    path = fill(case.path, seeded.values)
    return client.request(case.method, (prefix if case.prefixed else "") + path, **kwargs)


def differences(left: Any, right: Any, differ: frozenset[str], where: str = "$") -> Iterator[str]:
    """Paths where two JSON values disagree; keys named in `differ` must exist on both sides."""
    if isinstance(left, dict) and isinstance(right, dict):
        for key in sorted(set(left) | set(right)):
            if key not in left or key not in right:
                yield f"{where}.{key}: only on {'flask' if key in left else 'fastapi'}"
            elif key not in differ:
                yield from differences(left[key], right[key], differ, f"{where}.{key}")
    elif isinstance(left, list) and isinstance(right, list):
        if len(left) != len(right):
            yield f"{where}: {len(left)} items vs {len(right)}"
        for index, (a, b) in enumerate(zip(left, right, strict=False)):
            yield from differences(a, b, differ, f"{where}[{index}]")
    elif type(left) is not type(right) or left != right:
        yield f"{where}: {left!r} != {right!r}"


def check_envelope(response: httpx.Response) -> None:
    body = response.json()
    assert isinstance(body, dict) and isinstance(body.get("error"), str), body
    assert not {"detail", "msg", "success"} & set(body), body
    assert "message" not in body or isinstance(body["message"], str), body


def replay(case: Case, seeded: Seeded) -> tuple[httpx.Response, httpx.Response]:
    """The case through Flask, then through FastAPI (from the same state when it writes).

    The seeded state is restored afterwards, so no case sees another's writes.
    """
    try:
        legacy = send(seeded.doors.flask, "/api", case, seeded)
        if case.writes:
            seeded.snapshot.restore()
        new = send(seeded.doors.fastapi, "/api/v2", case, seeded)
    finally:
        seeded.snapshot.restore()
    return legacy, new


@pytest.mark.parametrize("case", CASES, ids=[f"{c.method} {c.path} [{c.name}]" for c in CASES])
def test_both_doors_answer_alike(case: Case, shared: Seeded) -> None:
    legacy, new = replay(case, shared)
    assert (legacy.status_code, new.status_code) == (case.status, case.status), (legacy.text[:300], new.text[:300])
    assert legacy.headers["content-type"].startswith("application/json")
    assert new.headers["content-type"].startswith("application/json")
    if case.status >= 400:
        check_envelope(legacy)
        check_envelope(new)
    assert list(differences(legacy.json(), new.json(), case.differ)) == []
    assert legacy.headers.get("Retry-After") == new.headers.get("Retry-After")


def test_cases_cover_every_read_endpoint_of_the_contract() -> None:
    """Every GET path of section 12 (canonical and alias) has a read case."""
    read_paths = {normalize(c.path.split("?", 1)[0]) for c in READS if c.method == "GET" and c.prefixed}
    wanted = {path for method, path in contract_endpoints(include_aliases=True) if method == "GET"}
    assert len(wanted) == 24
    assert wanted - read_paths == set()


@pytest.mark.parametrize("writer", ["flask", "fastapi"])
def test_a_job_written_through_one_door_reads_identically_through_both(writer: str, seeded: Seeded) -> None:
    client, prefix = (seeded.doors.flask, "/api") if writer == "flask" else (seeded.doors.fastapi, "/api/v2")
    token = {"Authorization": f"Bearer {seeded.world.tokens['user']}"}
    created = client.post(f"{prefix}/jobs", json=JOB_BODY, headers=token)
    assert created.status_code == 201, created.text
    job_id = created.json()["job"]["id"]
    for path in (f"/jobs/{job_id}", "/jobs", "/notifications"):
        legacy = seeded.doors.flask.get("/api" + path, headers=token)
        new = seeded.doors.fastapi.get("/api/v2" + path, headers=token)
        assert legacy.status_code == new.status_code == 200
        assert list(differences(legacy.json(), new.json(), frozenset())) == []
    detail = seeded.doors.fastapi.get(f"/api/v2/jobs/{job_id}", headers=token).json()["job"]
    assert list(differences(created.json()["job"], detail, frozenset())) == []

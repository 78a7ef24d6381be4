"""What /api/v2/docs says about each operation: summary, description, tag text.

One table for the whole API, so a reader of the document sees who may call an operation and what
it changes besides its answer. Paths are relative to the prefix, as in docs/API_CONTRACT.md.
"""

from __future__ import annotations

from typing import NamedTuple


class OperationDoc(NamedTuple):
    summary: str
    description: str


TAGS: list[dict[str, str]] = [
    {"name": "health", "description": "Liveness of this process and whether it runs the scheduler."},
    {"name": "auth", "description": "Log in, refresh, log out; the bearer JWTs every other operation needs."},
    {"name": "users", "description": "User accounts (admin) and each user's own profile and preferences."},
    {"name": "jobs", "description": "Cron jobs: create, edit, pause, delete, run now, bulk CSV import, test a target."},
    {"name": "cron", "description": "Cron expression tools: validation, next runs, a plain-language description."},
    {"name": "executions", "description": "Execution history of jobs, one row per run, and its statistics."},
    {"name": "categories", "description": "Job categories (admin manages, everyone reads)."},
    {"name": "pic-teams", "description": "Teams in charge of jobs, with their Slack handles (admin manages)."},
    {"name": "notifications", "description": "The caller's own in-app notifications."},
    {"name": "settings", "description": "Deployment-wide settings: the Slack webhook (admin)."},
    {"name": "scheduler", "description": "The scheduler's state and a forced resync (admin)."},
    {"name": "admin", "description": "Migration evidence for operators: shadow-read parity of the two doors (admin)."},
]

_ANY = "Any authenticated user (admin, user or viewer) may call it."
_WRITER = "Admins and users may call it; viewers get 403."
_ADMIN = "Admins only; others get 403."
_SELF = "The user themself or an admin may call it; others get 403."

OPERATIONS: dict[tuple[str, str], OperationDoc] = {
    ("GET", "/health"): OperationDoc(
        "Health of this process",
        "Answers whether the API process is up and whether it holds the scheduler lease, with the "
        "number of job schedules it runs. Public: no token needed. Changes nothing.",
    ),
    ("POST", "/auth/login"): OperationDoc(
        "Log in with username or email",
        "Checks a username (or email) and password and returns an access and a refresh token with the "
        "user. Public. Failed attempts are counted per account and client; too many answer 429 with "
        "Retry-After.",
    ),
    ("POST", "/auth/login/form"): OperationDoc(
        "Log in with a form (Swagger's Authorize)",
        "The same as POST /auth/login with an OAuth2 password form (`username`, `password`), which "
        "is what the Authorize dialog of this page sends. Public; the same throttle applies.",
    ),
    ("POST", "/auth/refresh"): OperationDoc(
        "New access token from a refresh token",
        "Send the refresh token as the bearer token; returns a new access token whose role and email "
        "come from the current account. Any active user. No new refresh token is issued.",
    ),
    ("POST", "/auth/logout"): OperationDoc(
        "Log out",
        "Revokes the presented access token (and a refresh token given in the body) on both doors "
        "until it expires. Any authenticated user; no body needed.",
    ),
    ("GET", "/auth/verify"): OperationDoc(
        "Check a token",
        "Answers whether the bearer token is valid and whose it is. " + _ANY + " Changes nothing.",
    ),
    ("GET", "/auth/me"): OperationDoc(
        "The caller's account",
        "The authenticated user, both nested under `user` and flattened. " + _ANY,
    ),
    ("POST", "/auth/register"): OperationDoc(
        "Create a user",
        "Creates an account with a role (default viewer). " + _ADMIN + " Usernames and emails are "
        "unique (409).",
    ),
    ("GET", "/auth/users"): OperationDoc(
        "List users", "Every account, oldest first. " + _ADMIN,
    ),
    ("GET", "/auth/users/{user_id}"): OperationDoc(
        "One user", "One account. " + _SELF,
    ),
    ("PUT", "/auth/users/{user_id}"): OperationDoc(
        "Update a user",
        "Changes email or password (self or admin), role or active flag (admin only). "
        "All-or-nothing: a refused field changes nothing.",
    ),
    ("DELETE", "/auth/users/{user_id}"): OperationDoc(
        "Delete a user",
        "Deletes an account with its notifications and preferences; its jobs stay, without an owner. "
        + _ADMIN + " An admin cannot delete themself.",
    ),
    ("GET", "/auth/users/{user_id}/preferences"): OperationDoc(
        "Notification preferences",
        "A user's email notification preferences, created with the defaults on first read. " + _SELF,
    ),
    ("PUT", "/auth/users/{user_id}/preferences"): OperationDoc(
        "Update notification preferences",
        "Sets any of the six preference flags; the others keep their value. " + _SELF + " Decides "
        "which run emails the user receives.",
    ),
    ("GET", "/auth/users/{user_id}/ui-preferences"): OperationDoc(
        "Jobs table columns",
        "Which columns the dashboard's jobs table shows for a user, created with the defaults on "
        "first read. " + _SELF,
    ),
    ("PUT", "/auth/users/{user_id}/ui-preferences"): OperationDoc(
        "Set jobs table columns",
        "Replaces the user's jobs table columns (known keys only). " + _SELF,
    ),
    ("GET", "/jobs"): OperationDoc(
        "List jobs",
        "Every job, newest first, with its last and next run. " + _ANY + " Answers 304 to a matching "
        "If-None-Match.",
    ),
    ("POST", "/jobs"): OperationDoc(
        "Create a job",
        "Creates a cron job that dispatches a GitHub Actions workflow or calls a webhook. " + _WRITER
        + " The scheduler picks it up within seconds and every user is notified (New Job Created).",
    ),
    ("GET", "/jobs/{job_id}"): OperationDoc(
        "One job", "One job with its last and next run. " + _ANY,
    ),
    ("PUT", "/jobs/{job_id}"): OperationDoc(
        "Update a job",
        "Partial update; only keys present are checked and applied, all-or-nothing. Admins, or the "
        "user who owns the job. Reschedules the job and notifies every user (Job Updated, Enabled or "
        "Disabled).",
    ),
    ("DELETE", "/jobs/{job_id}"): OperationDoc(
        "Delete a job",
        "Deletes a job and its executions and removes it from the scheduler. Admins, or the user who "
        "owns the job. Every user is notified (Job Deleted).",
    ),
    ("POST", "/jobs/{job_id}/execute"): OperationDoc(
        "Run a job now",
        "Runs the job once, synchronously, with optional overrides for this run only (never stored). "
        "Admins, or the user who owns the job. Records an execution (trigger `manual`) and sends the "
        "same notifications, email and Slack messages as a scheduled run. An expired job is paused "
        "instead (400).",
    ),
    ("POST", "/jobs/bulk-upload"): OperationDoc(
        "Import jobs from CSV",
        "Creates one job per valid CSV row (multipart `file`); invalid rows are reported, not created. "
        + _WRITER + " Each created job is scheduled and announced like POST /jobs.",
    ),
    ("POST", "/jobs/test-run"): OperationDoc(
        "Try a target without a job",
        "Calls a webhook or dispatches a GitHub workflow once and reports what answered, without "
        "creating a job or an execution. " + _WRITER,
    ),
    ("POST", "/jobs/validate-cron"): OperationDoc(
        "Validate a cron expression",
        "Whether a 5-field cron expression is valid, with its next runs in the scheduler's time zone. "
        + _ANY + " Problems are reported in a 200 body.",
    ),
    ("POST", "/jobs/cron-preview"): OperationDoc(
        "Next runs of a cron expression",
        "The next `count` fire times of an expression. " + _ANY + " Changes nothing.",
    ),
    ("POST", "/jobs/cron-description"): OperationDoc(
        "Describe a cron expression",
        "A plain-language description of an expression (\"At 09:00, Monday through Friday\"). " + _ANY,
    ),
    ("GET", "/jobs/{job_id}/executions"): OperationDoc(
        "A job's executions",
        "One job's runs, newest first, paginated and filterable by status, trigger and date range. "
        + _ANY,
    ),
    ("GET", "/jobs/{job_id}/executions/stats"): OperationDoc(
        "A job's run statistics",
        "Counts by status, success rate and average duration of one job's runs. " + _ANY,
    ),
    ("GET", "/jobs/{job_id}/executions/{execution_id}"): OperationDoc(
        "One execution of a job", "One run of one job. " + _ANY,
    ),
    ("GET", "/executions"): OperationDoc(
        "All executions",
        "Runs of every job, newest first, paginated and filterable by job, status, trigger and date "
        "range. " + _ANY,
    ),
    ("GET", "/executions/statistics"): OperationDoc(
        "Run statistics",
        "Counts by status, success rate and durations over all runs in a date range. " + _ANY,
    ),
    ("GET", "/executions/{execution_id}"): OperationDoc(
        "One execution", "One run, with its job's name. " + _ANY,
    ),
    ("GET", "/job-categories"): OperationDoc(
        "List categories", "Active categories (all with `include_inactive`). " + _ANY,
    ),
    ("POST", "/job-categories"): OperationDoc(
        "Create a category", "Creates a category; its slug is unique (409). " + _ADMIN,
    ),
    ("PUT", "/job-categories/{category_id}"): OperationDoc(
        "Update a category",
        "Renames a category or turns it on or off; when the slug changes, jobs filed under the old "
        "slug move to the new one in the same transaction (`jobs_updated`). " + _ADMIN,
    ),
    ("DELETE", "/job-categories/{category_id}"): OperationDoc(
        "Disable a category", "Marks a category inactive (idempotent); its jobs keep it. " + _ADMIN,
    ),
    ("GET", "/pic-teams"): OperationDoc(
        "List PIC teams", "Active teams in charge of jobs (all with `include_inactive`). " + _ANY,
    ),
    ("POST", "/pic-teams"): OperationDoc(
        "Create a PIC team",
        "Creates a team with its Slack handle, mentioned in the team's job alerts; its slug is unique "
        "(409). " + _ADMIN,
    ),
    ("PUT", "/pic-teams/{team_id}"): OperationDoc(
        "Update a PIC team",
        "Renames a team, changes its Slack handle or turns it on or off; when the slug changes, jobs "
        "filed under the old slug move to the new one (`jobs_updated`). " + _ADMIN,
    ),
    ("DELETE", "/pic-teams/{team_id}"): OperationDoc(
        "Disable a PIC team", "Marks a team inactive; new jobs can no longer name it. " + _ADMIN,
    ),
    ("GET", "/notifications"): OperationDoc(
        "The caller's notifications",
        "The caller's own notifications, newest first, paginated, optionally unread only or in a date "
        "range. " + _ANY,
    ),
    ("GET", "/notifications/unread-count"): OperationDoc(
        "Unread count", "How many of the caller's notifications are unread. " + _ANY,
    ),
    ("PUT", "/notifications/read-all"): OperationDoc(
        "Mark all read", "Marks every notification of the caller read. " + _ANY,
    ),
    ("DELETE", "/notifications/delete-read"): OperationDoc(
        "Delete read notifications",
        "Deletes the caller's read notifications (optionally only those in a date range). " + _ANY,
    ),
    ("PUT", "/notifications/{notification_id}/read"): OperationDoc(
        "Mark one read", "Marks one of the caller's notifications read; others' are 403. " + _ANY,
    ),
    ("DELETE", "/notifications/{notification_id}"): OperationDoc(
        "Delete one notification", "Deletes one of the caller's notifications; others' are 403. " + _ANY,
    ),
    ("GET", "/settings/slack"): OperationDoc(
        "Slack settings", "Whether Slack alerts are on, with the webhook URL and channel. " + _ADMIN,
    ),
    ("PUT", "/settings/slack"): OperationDoc(
        "Set Slack settings",
        "Turns Slack alerts on or off and sets the incoming-webhook URL and channel used for run "
        "alerts (a URL is required while enabled). " + _ADMIN,
    ),
    ("GET", "/scheduler/status"): OperationDoc(
        "Scheduler status",
        "Which process holds the scheduler lease, whether this process runs the scheduler, and the "
        "next scheduled runs. " + _ADMIN,
    ),
    ("POST", "/scheduler/resync"): OperationDoc(
        "Resync the scheduler",
        "Rebuilds this process's schedules from the database. " + _ADMIN + " Only the process holding "
        "the lease can (409 elsewhere).",
    ),
    ("GET", "/admin/parity"): OperationDoc(
        "Shadow-read parity report",
        "Per `/api` read route, how many mirrored reads were compared with this door's answer in the "
        "window (`since`, e.g. 24h), how many matched, differed or raced a write, with redacted "
        "samples of each difference. " + _ADMIN + " Changes nothing; `phase cutover` refuses while "
        "a difference is unexplained.",
    ),
}

# Alias path -> canonical path (contract 1.1): the same handler under the plan's name.
ALIASES: dict[tuple[str, str], str] = {
    ("POST", "/cron/test-run"): "/jobs/test-run",
    ("POST", "/cron/validate"): "/jobs/validate-cron",
    ("POST", "/cron/next-runs"): "/jobs/cron-preview",
    ("GET", "/stats/executions"): "/executions/statistics",
    ("GET", "/categories"): "/job-categories",
    ("POST", "/categories"): "/job-categories",
    ("PUT", "/categories/{category_id}"): "/job-categories/{category_id}",
    ("DELETE", "/categories/{category_id}"): "/job-categories/{category_id}",
    ("GET", "/teams"): "/pic-teams",
    ("POST", "/teams"): "/pic-teams",
    ("PUT", "/teams/{team_id}"): "/pic-teams/{team_id}",
    ("DELETE", "/teams/{team_id}"): "/pic-teams/{team_id}",
    ("DELETE", "/notifications/read"): "/notifications/delete-read",
}


def operation_doc(method: str, path: str) -> OperationDoc | None:
    """The doc of `method path` (relative to the prefix); an alias gets its canonical's, marked."""
    canonical = ALIASES.get((method, path))
    if canonical is None:
        return OPERATIONS.get((method, path))
    doc = OPERATIONS[(method, canonical)]
    return OperationDoc(
        f"{doc.summary} (alias)", f"Alias of `{method} {canonical}`, the same operation. {doc.description}"
    )

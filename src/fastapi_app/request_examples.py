"""One request example per JSON or form body in /api/v2/openapi.json (Swagger's "Try it out" starts from it).

Keyed by (method, path under the prefix); `finish_document` puts each on its operation's body.
The values are the SPA's own shapes: a job triggering a GitHub workflow, a team, a category.
"""

from __future__ import annotations

from typing import Any

_CRON = {"expression": "*/15 9-17 * * 1-5"}
_TEST_RUN = {"github_owner": "acme", "github_repo": "deploys", "github_workflow_name": "nightly.yml",
             "metadata": {"reason": "check before enabling"}, "timeout_seconds": 10}
_JOB = {
    "name": "Nightly deploy",
    "cron_expression": "0 2 * * *",
    "end_date": "2030-12-31",
    "pic_team": "platform",
    "category": "deploys",
    "github_owner": "acme",
    "github_repo": "deploys",
    "github_workflow_name": "nightly.yml",
    "metadata": {"environment": "staging"},
    "enable_email_notifications": True,
    "notification_emails": ["oncall@example.com"],
    "notify_on_success": False,
}
_TEAM = {"name": "Platform", "slack_handle": "@platform"}
_CATEGORY = {"name": "Deploys"}

REQUEST_EXAMPLES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/auth/login"): {"username": "admin", "password": "correct horse battery"},
    ("POST", "/auth/login/form"): {"username": "admin", "password": "correct horse battery"},
    ("POST", "/auth/logout"): {"refresh_token": "<the refresh token of this login>"},
    ("POST", "/auth/register"): {"username": "jdoe", "email": "jdoe@example.com",
                                 "password": "a long passphrase", "role": "user"},
    ("PUT", "/auth/users/{user_id}"): {"role": "viewer", "is_active": True},
    ("PUT", "/auth/users/{user_id}/preferences"): {"email_on_job_failure": True, "daily_digest": False},
    ("PUT", "/auth/users/{user_id}/ui-preferences"): {"jobs_table_columns": {"pic_team": True, "end_date": False}},
    ("POST", "/jobs"): _JOB,
    ("PUT", "/jobs/{job_id}"): {"cron_expression": "30 3 * * *", "is_active": True},
    ("POST", "/jobs/{job_id}/execute"): {"metadata": {"triggered_by": "on-call"}},
    ("POST", "/cron/test-run"): _TEST_RUN,
    ("POST", "/jobs/test-run"): _TEST_RUN,
    ("POST", "/cron/validate"): _CRON,
    ("POST", "/jobs/validate-cron"): _CRON,
    ("POST", "/cron/next-runs"): {**_CRON, "count": 5},
    ("POST", "/jobs/cron-preview"): {**_CRON, "count": 5},
    ("POST", "/jobs/cron-description"): _CRON,
    ("POST", "/categories"): _CATEGORY,
    ("POST", "/job-categories"): _CATEGORY,
    ("PUT", "/categories/{category_id}"): {"name": "Deployments", "is_active": True},
    ("PUT", "/job-categories/{category_id}"): {"name": "Deployments", "is_active": True},
    ("POST", "/teams"): _TEAM,
    ("POST", "/pic-teams"): _TEAM,
    ("PUT", "/teams/{team_id}"): {"slack_handle": "@platform-oncall"},
    ("PUT", "/pic-teams/{team_id}"): {"slack_handle": "@platform-oncall"},
    ("PUT", "/settings/slack"): {"is_enabled": True, "webhook_url": "https://hooks.slack.com/services/T0/B0/x",
                                 "channel": "#cron-alerts"},
}


def request_example(method: str, path: str) -> dict[str, Any] | None:
    """The example body of an operation (`path` without the door's prefix), if it takes one."""
    return REQUEST_EXAMPLES.get((method, path))

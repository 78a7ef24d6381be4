"""Running jobs: the plan of one run, the manual-execute checks (4.6) and test-run rules (4.10).

Core decides *what* to call; the executor (src.scheduler.executor) does the calling.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy.orm import Session

from src.config import Settings
from src.core.end_dates import auto_pause
from src.core.errors import Forbidden, Invalid, read_field, read_model
from src.core.job_fields import is_expired, json_object
from src.core.jobs import can_modify, get_job
from src.core.request_settings import RequestSettings, settings_of
from src.core.targets import GithubTarget, is_webhook_url, parse_dispatch_url
from src.models import Job, User
from src.schemas.manual_executions import ExecuteRequest, TestRunRequest

ExecutionType = Literal["github_actions", "webhook"]

# A manual run answers with its final status when it ends within this long (below the proxy's
# 60 s read timeout), else with `running` while it goes on (retries may take hours).
MANUAL_RUN_WAIT_SECONDS = 45.0
TEST_RUN_DEFAULT_TIMEOUT = 10.0
TEST_RUN_MIN_TIMEOUT = 1.0
TEST_RUN_MAX_TIMEOUT = 30.0


@dataclass(frozen=True)
class ExecutionPlan:
    """Everything one run needs, with manual overrides already applied (never persisted)."""

    job_id: str
    job_name: str
    metadata: dict[str, Any]
    github: GithubTarget | None = None
    webhook_url: str | None = None
    # A per-run token from the manual-run body: kept out of repr so it never reaches a log.
    github_token: str | None = field(default=None, repr=False)
    # The job's method, headers, body, timeout, retries and signing (7.8).
    request: RequestSettings = field(default_factory=RequestSettings)

    @property
    def execution_type(self) -> ExecutionType | None:
        if self.github is not None:
            return "github_actions"
        return "webhook" if self.webhook_url else None

    @property
    def target(self) -> str | None:
        if self.github is not None:
            return f"{self.github.owner}/{self.github.repo}/{self.github.workflow}"
        return self.webhook_url


def is_github_job(job: Job) -> bool:
    """4.6: all three GitHub fields set (even when a target_url is stored too)."""
    return bool(job.github_owner and job.github_repo and job.github_workflow_name)


def job_metadata(job: Job) -> dict[str, Any]:
    """The stored metadata as an object (`{}` when null, invalid or not an object)."""
    return json_object(job.job_metadata)


def plan_for_job(job: Job) -> ExecutionPlan:
    """A scheduled run: the job's configuration as stored (8.1 priority: GitHub, then webhook)."""
    metadata = job_metadata(job)
    request = settings_of(job)
    if is_github_job(job):
        github = GithubTarget(job.github_owner or "", job.github_repo or "", job.github_workflow_name or "")
        return ExecutionPlan(job.id, job.name, metadata, github=github, request=request)
    url = job.target_url if job.target_url and is_webhook_url(job.target_url) else None
    return ExecutionPlan(job.id, job.name, metadata, webhook_url=url, request=request)


def _expired_error() -> Invalid:
    error = Invalid("Job expired", "This job has passed its end_date and was auto-paused.")
    # The auto-pause done before answering 400 must be committed.
    error.keep_changes = True
    return error


def _github_overrides(job: Job, overrides: ExecuteRequest) -> GithubTarget:
    """Step 8 and the GitHub rows of the override table: dispatch_url, then explicit fields."""
    owner, repo, workflow = job.github_owner or "", job.github_repo or "", job.github_workflow_name or ""
    if overrides.dispatch_url:
        try:
            parsed = parse_dispatch_url(overrides.dispatch_url)
        except Invalid as exc:
            raise Invalid("Invalid payload", exc.message) from None
        owner, repo, workflow = parsed.owner, parsed.repo, parsed.workflow
    owner = overrides.github_owner or owner
    repo = overrides.github_repo or repo
    workflow = overrides.github_workflow_name or workflow
    return GithubTarget(owner, repo, workflow)


def prepare_manual_run(
    session: Session,
    settings: Settings,
    actor: User,
    job_id: str,
    read_body: Callable[[], dict[str, Any]],
) -> ExecutionPlan:
    """Checks 2–9 of 4.6, in order (the door applied the role gate, check 1)."""
    job = get_job(session, job_id)
    if not can_modify(actor, job):
        raise Forbidden("Insufficient permissions", "You can only execute your own jobs")
    if is_expired(job.end_date, settings):
        auto_pause(session, settings, job)
        raise _expired_error()
    if not job.is_active:
        raise Invalid("Job inactive", "Job is disabled. Enable it before running it manually.")
    # Every override is type-checked (1.2), the other kind's too: the document states each type.
    overrides = read_model(ExecuteRequest, read_body())
    metadata = overrides.metadata if overrides.metadata is not None else job_metadata(job)
    if is_github_job(job):
        github = _github_overrides(job, overrides)
        return ExecutionPlan(job.id, job.name, metadata, github=github, github_token=overrides.github_token,
                             request=settings_of(job))
    url = overrides.target_url or job.target_url
    if not url or not is_webhook_url(url):
        raise Invalid("Missing target configuration", "Job has no valid target configuration to execute.")
    return ExecutionPlan(job.id, job.name, metadata, webhook_url=url, request=settings_of(job))


# --- test run (4.10) -----------------------------------------------------------------------


@dataclass(frozen=True)
class TrialRunPlan:
    """A one-off trial: a webhook URL (wins when given) or a GitHub workflow, never persisted."""

    metadata: dict[str, Any]
    timeout_seconds: float
    webhook_url: str | None = None
    github: GithubTarget | None = None

    @property
    def kind(self) -> Literal["webhook", "github"]:
        return "webhook" if self.webhook_url else "github"


def prepare_trial_run(payload: dict[str, Any]) -> TrialRunPlan:
    """Checks 2–3 of 4.10 and the webhook scheme check; the door parsed the body (check 1)."""
    def read(key: str) -> Any:
        return read_field(TestRunRequest, payload, key)

    metadata: dict[str, Any] = read("metadata")
    target_url, owner, repo, workflow = (read(key) for key in (
        "target_url", "github_owner", "github_repo", "github_workflow_name"))
    if not target_url and not (owner and repo and workflow):
        raise Invalid(
            "Missing target configuration",
            "Provide target_url or GitHub config (github_owner, github_repo, github_workflow_name).",
        )
    if target_url and not is_webhook_url(target_url):
        raise Invalid("Invalid target_url", "Webhook URL must start with http:// or https://")
    timeout = read("timeout_seconds")
    timeout = TEST_RUN_DEFAULT_TIMEOUT if timeout is None else timeout
    timeout = min(TEST_RUN_MAX_TIMEOUT, max(TEST_RUN_MIN_TIMEOUT, timeout))
    if target_url:
        return TrialRunPlan(metadata, timeout, webhook_url=target_url)
    assert owner and repo and workflow
    return TrialRunPlan(metadata, timeout, github=GithubTarget(owner, repo, workflow))

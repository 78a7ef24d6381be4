"""GitHub `workflow_dispatch`: the real-run rules of contract 8.1 and the test-run ones of 4.10."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from src.config import Settings
from src.core.retry_policy import is_retryable_status, retry_after_seconds
from src.integrations.http_client import describe_error, is_transient
from src.integrations.results import DispatchResult
from src.integrations.run_calls import RunCallClient

API_VERSION = "2022-11-28"
TEST_RUN_OK_STATUSES = (201, 204)


@dataclass(frozen=True)
class Workflow:
    owner: str
    repo: str
    workflow: str

    @property
    def target(self) -> str:
        return f"{self.owner}/{self.repo}/{self.workflow}"


def dispatch_url(settings: Settings, workflow: Workflow) -> str:
    base = settings.GITHUB_API_BASE_URL.rstrip("/")
    owner, repo, name = (quote(part, safe="") for part in (workflow.owner, workflow.repo, workflow.workflow))
    return f"{base}/repos/{owner}/{repo}/actions/workflows/{name}/dispatches"


def dispatch_headers(token: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {token}",
        "Accept": "application/vnd.github+json",
        "Content-Type": "application/json",
        "X-GitHub-Api-Version": API_VERSION,
    }


def workflow_candidates(workflow: str) -> list[str]:
    """The names to try in order: a bare name (no `.`, not a numeric id) also as .yml, .yaml."""
    if "." in workflow or workflow.isdigit():
        return [workflow]
    return [workflow, f"{workflow}.yml", f"{workflow}.yaml"]


def _ref(metadata: dict[str, Any]) -> Any:
    ref = metadata.get("branchDetails")
    return ref if ref not in (None, "") else "master"


async def dispatch(
    calls: RunCallClient,
    settings: Settings,
    workflow: Workflow,
    metadata: dict[str, Any],
    *,
    job_name: str,
    token: str | None = None,
    timeout: float | None = None,
) -> DispatchResult:
    """A real run (scheduled or manual): success iff 204; never raises."""
    token = token or settings.GITHUB_TOKEN
    if not token:
        return DispatchResult(
            False, error_message=f"GitHub token not configured. Cannot trigger workflow for job '{job_name}'"
        )
    ref = _ref(metadata)
    body = {"ref": ref, "inputs": metadata}
    used = workflow
    try:
        for name in workflow_candidates(workflow.workflow):
            used = Workflow(workflow.owner, workflow.repo, name)
            response = await calls.send_json(
                "POST", dispatch_url(settings, used), body, headers=dispatch_headers(token), timeout=timeout,
            )
            if response.status_code != 404:
                break
    except httpx.HTTPError as exc:
        return DispatchResult(
            False, error_message=f"GitHub Actions request failed: {describe_error(exc)}", target=used.target,
            retryable=is_transient(exc),
        )
    if response.status_code == 204:
        return DispatchResult(
            True,
            response_status=204,
            output=f"Workflow triggered successfully on branch {ref}",
            target=used.target,
            excerpt=response.excerpt,
        )
    return DispatchResult(
        False,
        response_status=response.status_code,
        error_message=(
            f"GitHub Actions dispatch failed. Status: {response.status_code}, Response: {response.text}"
        ),
        output=response.text,
        target=used.target,
        excerpt=response.excerpt,
        retryable=is_retryable_status(response.status_code),
        retry_after=retry_after_seconds(response.retry_after),
    )


@dataclass(frozen=True)
class TrialDispatch:
    status_code: int

    @property
    def ok(self) -> bool:
        return self.status_code in TEST_RUN_OK_STATUSES


async def trial_dispatch(
    calls: RunCallClient,
    settings: Settings,
    workflow: Workflow,
    metadata: dict[str, Any],
    *,
    token: str,
    timeout: float,
) -> TrialDispatch:
    """The test-run variant (4.10): ref from ref/branch (default main), inputs only when given.

    Raises httpx.HTTPError on network problems; the caller reports them.
    """
    ref = metadata.get("ref") or metadata.get("branch") or "main"
    body: dict[str, Any] = {"ref": ref}
    if metadata:
        body["inputs"] = metadata
    response = await calls.send_json(
        "POST", dispatch_url(settings, workflow), body, headers=dispatch_headers(token), timeout=timeout
    )
    return TrialDispatch(response.status_code)

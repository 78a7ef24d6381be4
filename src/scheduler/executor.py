"""One run of a job (contract 8.1, 8.2): record, dispatch, finalize, notify, deliver.

Scheduled and manual runs share this code. Every database step is a sync core function run
through `AsyncSession.run_sync`, each in its own transaction (the scheduler's runs share it with
other runs' same step, see `run_steps`): the `running` row is committed before calling out (a
stuck run shows what it tried), and notification problems never change the finalized row.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import httpx
from sqlalchemy.exc import IntegrityError

from src.core import run_records
from src.core.job_runs import RunPlan, TrialRunPlan
from src.core.run_records import RunOutcome, RunRequest
from src.integrations import github, webhook
from src.integrations.results import DispatchResult
from src.scheduler.run_steps import RunSteps
from src.scheduler.services import RunServices

log = logging.getLogger(__name__)
async def dispatch(services: RunServices, plan: RunPlan) -> DispatchResult:
    """Call the run's target (GitHub first, then webhook); never raises for HTTP problems."""
    if plan.github is not None:
        workflow = github.Workflow(plan.github.owner, plan.github.repo, plan.github.workflow)
        return await github.dispatch(
            services.http, services.settings, workflow, plan.metadata,
            job_name=plan.job_name, token=plan.github_token,
        )
    if plan.webhook_url:
        return await webhook.call(services.http, plan.webhook_url, plan.metadata)
    return DispatchResult(False, error_message=run_records.no_target_error(plan.job_name))


async def run_job(
    services: RunServices,
    job_id: str,
    trigger_type: Literal["scheduled", "manual"],
    *,
    plan: RunPlan | None = None,
    scheduled_for: datetime | None = None,
    steps: RunSteps | None = None,
    dispatched: Callable[[], None] | None = None,
) -> str | None:
    """Run the job once; returns the execution id, or None when nothing ran. Never raises.

    `steps`: the scheduler's group-committed steps; by default each step is its own transaction.
    `dispatched` is called once the target answered (or failed), before the row is finalized.
    """
    steps = steps or RunSteps(services, grouped=False)
    # A scheduled run's outcome is one count of scheduler_fires_total (see Metrics.fire).
    count_fire = services.metrics.fire if trigger_type == "scheduled" else _not_counted
    try:
        started = await steps.begin.submit(RunRequest(job_id, trigger_type, plan, scheduled_for))
    except IntegrityError:
        log.info("job %s fire at %s already taken by another scheduler", job_id, scheduled_for)
        count_fire("duplicate")
        return None
    except Exception:
        log.exception("could not start a run of job %s", job_id)
        count_fire("error")
        return None
    if started is None:
        count_fire("skipped")
        return None

    execution_id, job_name = started.execution_id, started.plan.job_name
    try:
        result = await dispatch(services, started.plan)
    except Exception as exc:  # noqa: BLE001 - a run always ends with a finalized row
        log.exception("unexpected error dispatching job %s", job_id)
        result = DispatchResult(False, error_message=run_records.unexpected_error(job_name, exc))
    if dispatched is not None:
        dispatched()

    try:
        await steps.finish.submit(_outcome(execution_id, result))
    except Exception as exc:  # noqa: BLE001
        log.exception("could not finalize execution %s", execution_id)
        fallback = DispatchResult(False, error_message=run_records.unexpected_error(job_name, exc))
        try:
            await steps.finish.submit(_outcome(execution_id, fallback))
        except Exception:  # noqa: BLE001
            log.exception("could not record the failure of execution %s", execution_id)
            count_fire("error")
            return execution_id
        result = fallback
    count_fire("success" if result.success else "failed")

    try:
        await steps.announce.submit(execution_id)
    except Exception:  # noqa: BLE001 - notifications never change the run's outcome
        log.exception("could not notify about execution %s", execution_id)
    return execution_id


def _not_counted(_outcome: str) -> None:
    """Manual runs are not scheduler fires."""


def _outcome(execution_id: str, result: DispatchResult) -> RunOutcome:
    return RunOutcome(execution_id, result.success, result.response_status, result.error_message,
                      result.output, result.target)


# --- test run (4.10) -----------------------------------------------------------------------


@dataclass(frozen=True)
class TrialRunOutcome:
    ok: bool
    type: Literal["webhook", "github"]
    message: str
    status_code: int | None = None
    error: str | None = None


async def trial_run(services: RunServices, plan: TrialRunPlan) -> TrialRunOutcome:
    """Call the trial target once; nothing is recorded. Network problems become an outcome."""
    kind = plan.kind
    try:
        if plan.webhook_url:
            response = await webhook.request(
                services.http, plan.webhook_url, plan.metadata or {}, timeout=plan.timeout_seconds
            )
            ok = 200 <= response.status_code < 300
            message = "Webhook test run succeeded." if ok else "Webhook test run failed."
            return TrialRunOutcome(ok, kind, message, status_code=response.status_code)
        token = services.settings.GITHUB_TOKEN
        if not token:
            return TrialRunOutcome(
                False, kind, "Set GITHUB_TOKEN in backend .env to test-run GitHub workflows.",
                error="GitHub token not configured",
            )
        assert plan.github is not None
        workflow = github.Workflow(plan.github.owner, plan.github.repo, plan.github.workflow)
        answer = await github.trial_dispatch(
            services.http, services.settings, workflow, plan.metadata, token=token, timeout=plan.timeout_seconds
        )
        message = "GitHub workflow dispatch triggered." if answer.ok else "GitHub workflow dispatch failed."
        return TrialRunOutcome(answer.ok, kind, message, status_code=answer.status_code)
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        return TrialRunOutcome(False, kind, str(exc) or "Request failed", error="Request failed")


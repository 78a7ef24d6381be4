"""One run of a job (contract 8.1, 8.2): record, dispatch, finalize, notify, deliver.

Scheduled and manual runs share this code. Every database step is a sync core function run
through `AsyncSession.run_sync`, each in a unit of work of its own (the scheduler's executions share it
with other executions' same step, see `execution_steps`): the `running` row is committed before calling out (a
stuck run shows what it tried), and notification problems never change the finalized row.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import httpx
from sqlalchemy.exc import IntegrityError

from src.core import execution_records
from src.core.execution_plans import ExecutionPlan, TrialRunPlan
from src.core.execution_records import ExecutionOutcome, ExecutionRequest, ExecutionStatus
from src.core.retry_policy import wait_before_retry
from src.integrations import github, webhook
from src.integrations.results import DispatchResult
from src.scheduler.execution_steps import ExecutionSteps
from src.scheduler.services import ExecutionServices

log = logging.getLogger(__name__)
Sleep = Callable[[float], Awaitable[None]]


async def dispatch(
    services: ExecutionServices, plan: ExecutionPlan, *, message_id: str | None = None
) -> DispatchResult:
    """One call of the run's target (GitHub first, then webhook); never raises for HTTP problems.

    `message_id`: the Standard Webhooks `webhook-id` of a signed call (one per run).
    """
    if plan.github is not None:
        workflow = github.Workflow(plan.github.owner, plan.github.repo, plan.github.workflow)
        return await github.dispatch(
            services.calls, services.settings, workflow, plan.metadata,
            job_name=plan.job_name, token=plan.github_token, timeout=plan.request.timeout_seconds,
        )
    if plan.webhook_url:
        return await webhook.call(services.calls, plan.webhook_url, plan.metadata, plan.request,
                                  message_id=message_id)
    return DispatchResult(False, error_message=execution_records.no_target_error(plan.job_name))


async def dispatch_with_retries(
    services: ExecutionServices, plan: ExecutionPlan, *, message_id: str | None = None, sleep: Sleep = asyncio.sleep,
) -> tuple[DispatchResult, int]:
    """Call until success, a final failure or the job's retries are spent; (last result, attempts).

    Every attempt goes through `dispatch`, so the URL guard, redirect policy and size caps of one
    call hold for each.
    """
    attempt = 1
    while True:
        try:
            result = await dispatch(services, plan, message_id=message_id)
        except Exception as exc:  # noqa: BLE001 - a run always ends with a finalized row
            log.exception("unexpected error dispatching job %s", plan.job_id)
            return DispatchResult(False, error_message=execution_records.unexpected_error(plan.job_name, exc)), attempt
        if result.success or not result.retryable or attempt >= plan.request.attempts_allowed:
            return result, attempt
        await sleep(wait_before_retry(attempt, plan.request.retry_backoff_seconds, result.retry_after))
        attempt += 1


async def execute_job(
    services: ExecutionServices,
    job_id: str,
    trigger_type: Literal["scheduled", "manual"],
    *,
    plan: ExecutionPlan | None = None,
    scheduled_for: datetime | None = None,
    steps: ExecutionSteps | None = None,
    dispatched: Callable[[], None] | None = None,
    on_started: Callable[[str], None] | None = None,
    before_dispatch: Callable[[], Awaitable[None]] | None = None,
    retry_wait: Sleep = asyncio.sleep,
) -> str | None:
    """Run the job once (with its retries); returns the execution id, or None when nothing ran. Never raises.

    `steps`: the scheduler's group-committed steps; by default each step is its own transaction.
    `on_started` gets the execution id once the `running` row is committed; `before_dispatch` is
    awaited then (the scheduler takes its dispatch slot there). `dispatched` is
    called once the target answered (or failed for good), before the row is finalized.
    `retry_wait` waits between attempts (the scheduler's gives its dispatch slot away meanwhile).
    """
    steps = steps or ExecutionSteps(services, grouped=False)
    # A scheduled run's outcome is one count of scheduler_fires_total (see Metrics.fire).
    count_fire = services.metrics.fire if trigger_type == "scheduled" else _not_counted
    try:
        started = await steps.begin.submit(ExecutionRequest(job_id, trigger_type, plan, scheduled_for))
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
    if on_started is not None:
        on_started(execution_id)
    if before_dispatch is not None:
        await before_dispatch()
    result, attempts = await dispatch_with_retries(
        services, started.plan, message_id=f"msg_{execution_id}", sleep=retry_wait)
    if dispatched is not None:
        dispatched()

    try:
        await steps.finish.submit(_outcome(execution_id, result, attempts))
    except Exception as exc:
        log.exception("could not finalize execution %s", execution_id)
        fallback = DispatchResult(False, error_message=execution_records.unexpected_error(job_name, exc))
        try:
            await steps.finish.submit(_outcome(execution_id, fallback, attempts))
        except Exception:
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


@dataclass(frozen=True)
class ManualExecution:
    """The answer of a manual run: its row and final status, or `running` when it goes on."""

    execution_id: str | None
    status: ExecutionStatus | None


# Manual runs still calling out when the request answers: referenced so they are not collected.
_background_runs: set[asyncio.Task[str | None]] = set()


async def execute_manually(services: ExecutionServices, job_id: str, plan: ExecutionPlan,
                           wait_seconds: float) -> ManualExecution:
    """Run a job now; wait up to `wait_seconds` for its end, after which it goes on in the background."""
    loop = asyncio.get_running_loop()
    started: asyncio.Future[str] = loop.create_future()

    def on_started(execution_id: str) -> None:
        if not started.done():
            started.set_result(execution_id)

    task = asyncio.create_task(execute_job(services, job_id, "manual", plan=plan, on_started=on_started))
    _background_runs.add(task)
    task.add_done_callback(_background_runs.discard)
    await asyncio.wait({task}, timeout=wait_seconds)
    if not task.done() and not started.done():
        either: list[asyncio.Future[Any]] = [task, started]
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
    if not task.done():
        return ManualExecution(started.result(), "running")
    execution_id = task.result()
    if execution_id is None:
        return ManualExecution(None, None)
    async with services.unit_of_work() as session:
        status = await session.run_sync(execution_records.execution_status, execution_id)
    return ManualExecution(execution_id, status)


def _not_counted(_outcome: str) -> None:
    """Manual runs are not scheduler fires."""


def _outcome(execution_id: str, result: DispatchResult, attempts: int) -> ExecutionOutcome:
    return ExecutionOutcome(execution_id, result.success, result.response_status, result.error_message,
                      result.output, result.target, attempts=attempts, excerpt=result.excerpt)


# --- test run (4.10) -----------------------------------------------------------------------


@dataclass(frozen=True)
class TrialRunOutcome:
    ok: bool
    type: Literal["webhook", "github"]
    message: str
    status_code: int | None = None
    error: str | None = None


async def trial_run(services: ExecutionServices, plan: TrialRunPlan) -> TrialRunOutcome:
    """Call the trial target once; nothing is recorded. Network problems become an outcome."""
    kind = plan.kind
    try:
        if plan.webhook_url:
            response = await webhook.request(
                services.calls, plan.webhook_url, plan.metadata or {}, timeout=plan.timeout_seconds
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
            services.calls, services.settings, workflow, plan.metadata, token=token, timeout=plan.timeout_seconds
        )
        message = "GitHub workflow dispatch triggered." if answer.ok else "GitHub workflow dispatch failed."
        return TrialRunOutcome(answer.ok, kind, message, status_code=answer.status_code)
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        return TrialRunOutcome(False, kind, str(exc) or "Request failed", error="Request failed")


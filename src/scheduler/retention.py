"""Daily retention prune, run by the leader at RETENTION_TIME (scheduler timezone).

Deletes old notifications, old executions, expired token revocations and old job-deletion
tombstones (rules in src/core/retention.py), each batch in
its own transaction with a short pause between batches, so API writers waiting on SQLite's
write lock get their turn and a long backlog never blocks the doors.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from src.core.retention import BATCH_PAUSE_SECONDS, PruneCounts, add_batch, batch_steps, retention_policy
from src.scheduler.services import ExecutionServices

log = logging.getLogger(__name__)

RETENTION_JOB_ID = "retention_prune"


async def run_retention_prune(
    services: ExecutionServices,
    *,
    keep_going: Callable[[], bool] = lambda: True,
    pause: float = BATCH_PAUSE_SECONDS,
) -> PruneCounts | None:
    """Prune in batches until nothing is left or `keep_going()` turns false (lease lost).

    Returns the counts, or None when a batch failed (logged; tomorrow's pass retries).
    """
    policy = retention_policy(services.settings)
    counts = PruneCounts()
    try:
        for table, step in batch_steps(policy):
            while keep_going():
                async with services.unit_of_work() as session:
                    removed = await session.run_sync(step)
                add_batch(counts, table, removed)
                if removed < policy.batch_size:
                    break
                await asyncio.sleep(pause)
    except Exception:  # noqa: BLE001 - the next day's pass retries; never crash the scheduler
        log.exception("retention prune failed after removing %d execution(s) and %d notification(s)",
                      counts.executions, counts.notifications)
        return None
    if not keep_going():
        log.warning("retention prune stopped early: this process no longer holds the scheduler lease")
    log.info("retention prune: %d execution(s) older than %s, %d notification(s) older than %s, "
             "%d expired token revocation(s) and %d job-deletion tombstone(s) removed in %d batch(es)",
             counts.executions, policy.execution_cutoff or "never", counts.notifications,
             policy.notification_cutoff or "never", counts.revoked_tokens, counts.job_deletions, counts.batches)
    return counts

"""Closing the executions a dead process left `running` (contract 8.2)."""

from __future__ import annotations

import logging
from datetime import timedelta

from src.core import scheduler_sync
from src.core.clock import utcnow
from src.scheduler.services import ExecutionServices

log = logging.getLogger(__name__)


def interrupted_after_seconds(services: ExecutionServices) -> float:
    """How long a `running` row may stay open before it must belong to a dead process.

    A run makes at most three outbound calls (GitHub extension retry), each bounded by the
    outbound timeout; a generous margin is added on top.
    """
    return max(120.0, 3 * services.settings.OUTBOUND_TIMEOUT_SECONDS + 60.0)


async def close_interrupted_runs(services: ExecutionServices) -> int:
    """Close `running` rows left by a dead process as failed "Interrupted: ..."; 0 when it failed (retried later)."""
    cutoff = utcnow() - timedelta(seconds=interrupted_after_seconds(services))
    try:
        async with services.unit_of_work() as session:
            closed = await session.run_sync(
                scheduler_sync.close_interrupted_runs, cutoff, services.settings.OUTBOUND_TIMEOUT_SECONDS)
    except Exception:  # noqa: BLE001 - retried at the next check
        log.exception("closing interrupted runs failed")
        return 0
    if closed:
        log.warning("closed %d run(s) left running by a process that stopped", closed)
    return closed

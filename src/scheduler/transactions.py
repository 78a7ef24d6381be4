"""One sync core step in its own transaction on the async engine, then its queued messages sent."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.orm import Session

from src.core import outbox
from src.integrations.delivery import deliver
from src.scheduler.services import RunServices

T = TypeVar("T")


async def in_transaction(services: RunServices, step: Callable[[Session], T]) -> T:
    """Run `step(session)` through `AsyncSession.run_sync`, commit, then deliver what it queued.

    A failed step rolls back and its queued Slack/email messages are dropped with it.
    """
    async with services.session_factory() as session:
        try:
            result = await session.run_sync(step)
            await session.commit()
        except BaseException:
            await session.rollback()
            outbox.discard(session.sync_session)
            raise
        messages = outbox.take(session.sync_session)
    if messages:
        await deliver(services, messages)
    return result

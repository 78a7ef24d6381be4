"""CPU-heavy core operations (password hashing) run in the thread pool, never on the event loop.

pbkdf2 costs milliseconds of CPU; inside `AsyncSession.run_sync` it would stall every other
request. These operations get their own sync Session in a worker thread (hashlib releases
the GIL, so logins use both cores) and the same commit-then-deliver rule as other routes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastapi import Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from src.core import outbox
from src.fastapi_app.threaded_session import run_in_transaction
from src.fastapi_app.transactions import deliver_later

T = TypeVar("T")


async def run_blocking(request: Request, operation: Callable[[Session], T]) -> T:
    """`operation(session)` in a worker thread; committed when it returns, rolled back when it raises."""
    factory = request.app.state.sync_session_factory

    def work() -> tuple[T, list[outbox.SlackMessage | outbox.EmailMessage]]:
        with factory() as session:
            result = run_in_transaction(session, lambda: operation(session))
            return result, outbox.take(session)

    result, messages = await run_in_threadpool(work)
    deliver_later(request.app.state.services, messages)
    return result

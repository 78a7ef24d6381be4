"""The route class that owns each request's database transaction.

The handler gets a ThreadedSession (via `SessionDep`); when it returns a success response the
session commits *before* the response leaves, then the Slack/email messages the committed work
queued are sent in the background. Errors roll back (unless the error says to keep changes).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from src.core import outbox
from src.core.errors import CoreError
from src.fastapi_app.threaded_session import ThreadedSession
from src.integrations.delivery import deliver
from src.scheduler.services import RunServices

READ_METHODS = frozenset({"GET", "HEAD"})
_background: set[asyncio.Task[Any]] = set()


def deliver_later(services: RunServices, messages: list[outbox.SlackMessage | outbox.EmailMessage]) -> None:
    """Send committed work's Slack/email messages in the background (kept referenced until done)."""
    if messages:
        task = asyncio.create_task(deliver(services, messages))
        _background.add(task)
        task.add_done_callback(_background.discard)


def reads_only(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a non-GET route that writes nothing to the database: it gets a read session.

    Its authentication then ends its own transaction at once (on SQLite, on the event loop), so
    slow outbound I/O after it holds no connection.
    """
    endpoint.database_reads_only = True  # type: ignore[attr-defined]  # a marker attribute on the endpoint function
    return endpoint


class TransactionalRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        reads_only = getattr(self.endpoint, "database_reads_only", False)

        async def transactional(request: Request) -> Response:
            services: RunServices = request.app.state.services
            # Reads end each operation's transaction in the hop that ran it (ThreadedSession).
            session: ThreadedSession = request.app.state.request_sessions(
                commit_each_operation=reads_only or request.method in READ_METHODS
            )
            request.state.db = session
            try:
                response = await handler(request)
            except CoreError as error:
                await session.finish(commit=error.keep_changes)
                if error.keep_changes:
                    deliver_later(services, outbox.take(session.sync_session))
                raise
            except BaseException:
                await session.finish(commit=False)
                raise
            succeeded = response.status_code < 400
            await session.finish(commit=succeeded)
            if succeeded:
                deliver_later(services, outbox.take(session.sync_session))
            return response

        return transactional

"""The real FastAPI door for the several-workers test: `uvicorn --factory tests.scheduler.workers_app:create_app`.

Two test seams, nothing else changed:
- a job named `<anything> @<epoch>,<epoch>` fires at those instants only (the "next run = now + n s"
  seam of tests/scheduler/scheduler_process.py; the path from trigger to dispatch is the production
  one); a job without `@` never fires;
- every response names the worker that answered it (`X-Worker-Pid`), so the test can tell a
  write on one worker from a read on another.
"""

from __future__ import annotations

import functools
import os
from datetime import UTC, datetime
from typing import Any

from src.core.scheduler_sync import JobScheduleRow
from src.fastapi_app import main
from tests.scheduler.conftest import InstantsTrigger

WORKER_HEADER = "x-worker-pid"


def instants_in_name(row: JobScheduleRow) -> InstantsTrigger:
    """The fire instants a job's name carries after its `@`."""
    _, _, tail = row.name.rpartition("@")
    instants = [datetime.fromtimestamp(float(v), UTC) for v in tail.split(",") if v.strip()] if "@" in row.name else []
    return InstantsTrigger(instants)


class NameTheWorker:
    """ASGI wrapper adding `X-Worker-Pid: <this process's pid>` to every HTTP response."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.pid = str(os.getpid()).encode()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def named(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (WORKER_HEADER.encode(), self.pid)]}
            await send(message)

        await self.app(scope, receive, named)


def create_app() -> NameTheWorker:
    # The worker's own copy of the module: the scheduler host it starts gets the seam.
    main.start_scheduler_host = functools.partial(main.start_scheduler_host, trigger_for=instants_in_name)  # type: ignore[assignment]  # the same callable with one keyword bound
    return NameTheWorker(main.create_app())

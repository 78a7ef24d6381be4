"""The async resources one run of a job needs, opened and closed by their host process."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from functools import partial

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from src.config import Settings
from src.core.unit_of_work import async_unit_of_work
from src.database.engines import create_async_engine_from_settings, make_async_session_factory
from src.integrations.delivery import deliver
from src.integrations.email import Mailer
from src.integrations.run_calls import RunCallClient, create_run_call_client
from src.observability.metrics import Metrics


@dataclass
class ExecutionServices:
    settings: Settings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    # Every outbound HTTP call: runs' and test-runs' webhook calls, GitHub dispatches, Slack posts.
    calls: RunCallClient
    mailer: Mailer
    # The registry of the process's /metrics (fires, lease, failed notifications count there).
    metrics: Metrics = field(default_factory=Metrics)

    def unit_of_work(self) -> AbstractAsyncContextManager[AsyncSession]:
        """A unit of work on the async engine: the messages it queued are sent once it committed."""
        return async_unit_of_work(self.session_factory, partial(deliver, self))


async def open_execution_services(settings: Settings, metrics: Metrics | None = None) -> ExecutionServices:
    engine = create_async_engine_from_settings(settings)
    return ExecutionServices(
        settings=settings,
        engine=engine,
        session_factory=make_async_session_factory(engine),
        calls=create_run_call_client(settings),
        mailer=Mailer(settings),
        metrics=metrics or Metrics(),
    )


async def close_execution_services(services: ExecutionServices) -> None:
    await services.calls.aclose()
    await services.engine.dispose()

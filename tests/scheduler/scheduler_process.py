"""A scheduler host in its own process, for multi-process tests (lease, takeover, exactly-once).

Environment: DATABASE_URL, HOST_KIND (flask|fastapi), SCHEDULER_HOST, SCHEDULER_LEASE_SECONDS,
SCHEDULER_SYNC_SECONDS, SCHEDULER_MAX_CONCURRENT_RUNS, and FIRE_AT: comma-separated epoch
seconds at which every job fires (the "next run = now + n s" seam; the path from trigger to
dispatch is the production one). Stops cleanly (releasing the lease) on SIGTERM.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from datetime import UTC, datetime

from src.scheduler.host import start_scheduler_host, stop_scheduler_host
from src.scheduler.services import close_execution_services, open_execution_services
from tests.conftest import make_settings
from tests.scheduler.conftest import InstantsTrigger


async def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    env = os.environ
    settings = make_settings(
        env["DATABASE_URL"],
        SCHEDULER_HOST=env.get("SCHEDULER_HOST", "flask"),
        SCHEDULER_LEASE_SECONDS=int(env.get("SCHEDULER_LEASE_SECONDS", "2")),
        SCHEDULER_SYNC_SECONDS=float(env.get("SCHEDULER_SYNC_SECONDS", "0.3")),
        SCHEDULER_MAX_CONCURRENT_RUNS=int(env.get("SCHEDULER_MAX_CONCURRENT_RUNS", "50")),
        OUTBOUND_TIMEOUT_SECONDS=5.0,
    )
    instants = [datetime.fromtimestamp(float(v), UTC) for v in env.get("FIRE_AT", "").split(",") if v]
    services = await open_execution_services(settings)
    host = await start_scheduler_host(
        services, env.get("HOST_KIND", "flask"),  # type: ignore[arg-type]  # the environment names one of the host kinds
        trigger_for=lambda _row: InstantsTrigger(instants),
    )
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print("STARTED", flush=True)
    await stop.wait()
    await stop_scheduler_host(host)
    await close_execution_services(services)


if __name__ == "__main__":
    asyncio.run(main())

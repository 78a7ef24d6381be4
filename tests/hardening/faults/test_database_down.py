"""PostgreSQL stopped mid-run: both doors, as real servers, answer the contract's 503 envelope (never
a 500, never a hang) and serve again by themselves once it is back; the scheduler survives the
outage and fires again after it.

A private cluster (tests/private_postgres.py) is stopped and started; the shared server on 5432
is never touched.
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select
from sqlalchemy.engine import make_url

from src.config import Settings
from src.core.errors import DATABASE_RETRY_AFTER_SECONDS
from src.database.engines import create_sync_engine_from_settings, make_session_factory
from src.database.migrate import upgrade_to_head
from src.models import JobExecution
from src.scheduler.host import SchedulerHost
from src.scheduler.runtime import SchedulerRuntime
from src.scheduler.services import close_execution_services, open_execution_services
from tests.conftest import PASSWORD, Factory, legacy_door, make_settings
from tests.door_servers import SECRET, Door, start_doors, stop_processes
from tests.observability.exposition import Scrape
from tests.pg_databases import PostgresServer
from tests.private_postgres import PrivateCluster, private_cluster
from tests.receivers import FaultyServer, Receiver

# Runs gunicorn (Flask) next to uvicorn.
pytestmark = legacy_door

UNAVAILABLE = {"error": "Service unavailable", "message": "Database unavailable, retry shortly."}
DOORS = ["flask", "fastapi"]
# Short, so a database that accepts TCP but never answers costs seconds, not the 10 s default.
CONNECT_TIMEOUT_SECONDS = 2
USERNAME = "fault-admin"


@dataclass
class Database:
    """The private cluster, one migrated database on it, an admin and a job."""

    cluster: PrivateCluster
    url: str
    token: str
    job_name: str

    def settings(self, **overrides: Any) -> Settings:
        return make_settings(self.url, JWT_SECRET_KEY=SECRET, **overrides)


@dataclass
class Doors:
    database: Database
    doors: dict[str, Door]
    processes: list[subprocess.Popen[bytes]]

    def send(self, door: str, endpoint: str) -> httpx.Response:
        method, path, token, body = ENDPOINTS[endpoint](self.database)
        return self.doors[door].call(method, path, token, **({"json": body} if body is not None else {}))


# endpoint → (method, path, token, JSON body)
ENDPOINTS: dict[str, Callable[[Database], tuple[str, str, str | None, Any]]] = {
    "health": lambda db: ("GET", "/health", None, None),
    "login": lambda db: ("POST", "/auth/login", None, {"username": USERNAME, "password": PASSWORD}),
    "list jobs": lambda db: ("GET", "/jobs", db.token, None),
    "create job": lambda db: ("POST", "/jobs", db.token, {
        "name": "created-while-down", "cron_expression": "0 9 * * *", "target_url": "http://127.0.0.1:9/x",
        "end_date": "2099-01-01", "pic_team": "team-a",
    }),
}


@pytest.fixture(scope="module")
def database() -> Iterator[Database]:
    with private_cluster() as cluster:
        created = PostgresServer(cluster.server_url).create("cronjobs")
        url = make_url(created).update_query_dict({"connect_timeout": str(CONNECT_TIMEOUT_SECONDS)})
        url_text = url.render_as_string(hide_password=False)
        upgrade_to_head(make_settings(url_text))
        settings = make_settings(url_text, JWT_SECRET_KEY=SECRET)
        engine = create_sync_engine_from_settings(settings)
        with make_session_factory(engine)() as session:
            factory = Factory(session, settings)
            admin = factory.user("admin", username=USERNAME, email="fault-admin@example.com")
            factory.team("Team A", slug="team-a")
            job = factory.job(admin, name="kept-through-the-outage")
            database = Database(cluster, url_text, factory.token(admin), job.name)
        engine.dispose()
        yield database


@pytest.fixture(scope="module")
def doors(database: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Doors]:
    folder: Path = tmp_path_factory.mktemp("faults-doors")
    started, processes = start_doors(database.url, folder, flask_workers=1)
    try:
        yield Doors(database, started, processes)
    finally:
        stop_processes(processes)


@pytest.fixture
def cluster_restarted_after(database: Database) -> Iterator[PrivateCluster]:
    """The cluster, running again after the test whatever the test did to it."""
    try:
        yield database.cluster
    finally:
        if not database.cluster.running():
            database.cluster.start()


@pytest.fixture
def database_down(cluster_restarted_after: PrivateCluster) -> Iterator[None]:
    cluster_restarted_after.stop("immediate")
    yield


def _assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.json() == UNAVAILABLE
    assert response.headers["retry-after"] == str(DATABASE_RETRY_AFTER_SECONDS)


def _assert_served(doors: Doors, door: str) -> None:
    assert doors.send(door, "health").json()["status"] == "healthy"
    assert doors.send(door, "login").json()["user"]["username"] == USERNAME
    listed = doors.send(door, "list jobs")
    assert listed.status_code == 200, listed.text
    assert doors.database.job_name in [job["name"] for job in listed.json()["jobs"]]


def _concurrently(doors: Doors, door: str, endpoint: str, count: int = 8) -> list[httpx.Response]:
    # Several at once make the pool hold several connections, which a restart all kills.
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(lambda _n: doors.send(door, endpoint), range(count)))


# --- the doors -----------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
@pytest.mark.parametrize("door", DOORS)
def test_request_while_the_database_is_down_answers_the_503_envelope_with_retry_after(
    doors: Doors, database_down: None, door: str, endpoint: str
) -> None:
    _assert_unavailable(doors.send(door, endpoint))


@pytest.mark.parametrize("stop_mode", ["immediate", "fast"])
@pytest.mark.parametrize("door", DOORS)
def test_door_serves_again_once_the_database_is_back_without_a_restart(
    doors: Doors, cluster_restarted_after: PrivateCluster, door: str, stop_mode: str
) -> None:
    assert {r.status_code for r in _concurrently(doors, door, "list jobs")} == {200}
    cluster_restarted_after.stop(stop_mode)
    _assert_unavailable(doors.send(door, "list jobs"))
    cluster_restarted_after.start()
    # Every pooled connection died with the server: none of them may cost a request its answer.
    assert {r.status_code for r in _concurrently(doors, door, "list jobs")} == {200}
    _assert_served(doors, door)
    assert all(process.poll() is None for process in doors.processes)


@pytest.mark.parametrize("door", DOORS)
def test_a_restart_between_two_requests_costs_no_request(
    doors: Doors, cluster_restarted_after: PrivateCluster, door: str
) -> None:
    assert {r.status_code for r in _concurrently(doors, door, "list jobs")} == {200}
    # Every pooled connection is now dead, and no failed request has told the pool so.
    cluster_restarted_after.stop("immediate")
    cluster_restarted_after.start()
    assert [r.status_code for r in _concurrently(doors, door, "list jobs")] == [200] * 8


@pytest.mark.parametrize("door", DOORS)
def test_a_database_that_accepts_but_never_answers_gives_503_after_the_connect_timeout(
    doors: Doors, cluster_restarted_after: PrivateCluster, door: str
) -> None:
    cluster_restarted_after.stop("immediate")
    # A frozen host: TCP connects, the startup packet gets no answer.
    silent = FaultyServer("silent", port=cluster_restarted_after.port).start()
    try:
        _assert_unavailable(doors.send(door, "list jobs"))
    finally:
        silent.stop()
    cluster_restarted_after.start()
    _assert_served(doors, door)


@pytest.mark.parametrize("door", DOORS)
def test_health_says_healthy_again_once_the_database_is_back(
    doors: Doors, cluster_restarted_after: PrivateCluster, door: str
) -> None:
    cluster_restarted_after.stop("immediate")
    _assert_unavailable(doors.send(door, "health"))
    cluster_restarted_after.start()
    response = doors.send(door, "health")
    assert (response.status_code, response.json()["status"]) == (200, "healthy")


# --- the scheduler -------------------------------------------------------------------------


@pytest.fixture
def hook() -> Iterator[Receiver]:
    server = Receiver().start()
    try:
        yield server
    finally:
        server.stop()


def _successful_runs(settings: Settings, job_id: str) -> int:
    engine = create_sync_engine_from_settings(settings)
    try:
        with make_session_factory(engine)() as session:
            statuses = session.scalars(select(JobExecution.status).where(JobExecution.job_id == job_id)).all()
    finally:
        engine.dispose()
    return sum(1 for status in statuses if status == "success")


def _scheduled_job(database: Database, hook: Receiver, name: str) -> str:
    settings = database.settings()
    engine = create_sync_engine_from_settings(settings)
    try:
        with make_session_factory(engine)() as session:
            job = Factory(session, settings).job(None, name=name, target_url=f"{hook.url}/{name}")
            return job.id
    finally:
        engine.dispose()


async def _until(condition: Callable[[], Any], *, off_loop: bool = False, timeout: float = 20.0) -> Any:
    """Poll `condition` (on a worker thread when it does blocking I/O) until it is truthy."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await asyncio.to_thread(condition) if off_loop else condition()
        if value:
            return value
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.1)


def every_second(_row: Any) -> IntervalTrigger:
    return IntervalTrigger(seconds=1)


def test_fires_while_the_database_is_down_do_not_stop_the_scheduler_and_fire_again_after(
    database: Database, cluster_restarted_after: PrivateCluster, hook: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="src.scheduler")
    job_id = _scheduled_job(database, hook, "fires-through-outage")
    settings = database.settings(OUTBOUND_TIMEOUT_SECONDS=2.0)

    async def main() -> None:
        services = await open_execution_services(settings)
        runtime = SchedulerRuntime(services, trigger_for=every_second)  # the lease is not the subject here
        try:
            await runtime.start()
            await _until(lambda: _successful_runs(settings, job_id) >= 1, off_loop=True)
            await asyncio.to_thread(cluster_restarted_after.stop, "immediate")
            # A fire comes due while the database is down: the run cannot start and says so.
            await _until(lambda: any("could not start a run of job" in r.getMessage() for r in caplog.records))
            assert runtime.running
            fires = Scrape(services.metrics.render().decode())
            assert (fires.value("scheduler_fires_total", outcome="error") or 0) >= 1
            await asyncio.to_thread(cluster_restarted_after.start)
            before = await asyncio.to_thread(_successful_runs, settings, job_id)
            await _until(lambda: _successful_runs(settings, job_id) > before, off_loop=True)
            assert runtime.running
        finally:
            await runtime.stop(drain_seconds=5)
            await close_execution_services(services)

    asyncio.run(main())


def test_scheduler_host_steps_down_while_the_database_is_down_and_leads_again_after(
    database: Database, cluster_restarted_after: PrivateCluster, hook: Receiver
) -> None:
    job_id = _scheduled_job(database, hook, "host-through-outage")
    settings = database.settings(SCHEDULER_HOST="fastapi", SCHEDULER_LEASE_SECONDS=3, SCHEDULER_SYNC_SECONDS=0.5,
                                 OUTBOUND_TIMEOUT_SECONDS=2.0)

    async def main() -> None:
        services = await open_execution_services(settings)
        host = SchedulerHost(services, "fastapi", trigger_for=every_second)
        host.start()
        try:
            await _until(lambda: host.is_leader)
            await _until(lambda: hook.to("/host-through-outage"))
            await asyncio.to_thread(cluster_restarted_after.stop, "immediate")
            # It cannot renew the lease, so it stops firing rather than risk a second leader.
            await _until(lambda: not host.is_leader)
            assert all(not task.done() for task in host._tasks)  # heartbeat and sync still alive
            await asyncio.to_thread(cluster_restarted_after.start)
            await _until(lambda: host.is_leader)
            before = await asyncio.to_thread(_successful_runs, settings, job_id)
            await _until(lambda: _successful_runs(settings, job_id) > before, off_loop=True)
        finally:
            await host.stop()
            await close_execution_services(services)

    asyncio.run(main())

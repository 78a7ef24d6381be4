"""`/metrics` and the JSON log lines of a real gunicorn (Flask, two workers) and a real uvicorn
(FastAPI) process.

The FastAPI process takes the scheduler lease from a previous leader that stopped renewing a
minute ago, so each every-minute job fires once at its start (the misfire rule): one to a
receiver that answers 200, one to a receiver that answers 500, whose failure alert goes to a
Slack webhook that is down.
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from src.database.engines import create_sync_engine_from_settings, make_session_factory
from src.database.migrate import upgrade_to_head
from src.models import SchedulerLease, SlackSettings, utcnow
from tests.conftest import Factory, legacy_door, make_settings
from tests.door_servers import SECRET, Door, start_doors, stop_processes
from tests.json_logs import json_lines, wait_for_json_line
from tests.observability.exposition import Scrape
from tests.receivers import Receiver, closed_port_url

# Runs gunicorn (Flask) next to uvicorn.
pytestmark = legacy_door

LEASE_SECONDS = 3
JOB_ROUTE = {"flask": "/api/jobs/<job_id>", "fastapi": "/api/v2/jobs/{job_id}"}
SERIES = ("http_requests_total", "http_request_duration_seconds_count", "scheduler_fires_total",
          "scheduler_fire_lag_seconds_count", "scheduler_fire_failures_total", "scheduler_lease_holder",
          "notification_delivery_failures_total")


@dataclass
class Running:
    doors: dict[str, Door]
    folder: Path
    token: str
    job_id: str

    def origin(self, door: str) -> str:
        """The process's own address: /metrics lives at its root, outside /api and /api/v2."""
        return self.doors[door].base.rsplit("/api", 1)[0]

    def scrape(self, door: str) -> Scrape:
        response = httpx.get(self.origin(door) + "/metrics", timeout=10)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        return Scrape(response.text)

    def log_lines(self, door: str) -> list[dict[str, Any]]:
        """Every line the process has finished writing, each parsed as JSON (fails on one that is not)."""
        return json_lines(self.folder / f"{door}.log")


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    folder = tmp_path_factory.mktemp("observability")
    url = f"sqlite:///{folder / 'app.db'}"
    upgrade_to_head(make_settings(url))
    settings = make_settings(url, JWT_SECRET_KEY=SECRET)
    receiver = Receiver().start()
    receiver.respond("/hook/broken", 500, "boom")
    engine = create_sync_engine_from_settings(settings)
    with make_session_factory(engine)() as session:
        factory = Factory(session, settings)
        admin = factory.user("admin")
        factory.team("Team A", slug="team-a")
        token = factory.token(admin)
        ok = factory.job(admin, cron_expression="* * * * *", target_url=f"{receiver.url}/hook/ok")
        factory.job(admin, cron_expression="* * * * *", target_url=f"{receiver.url}/hook/broken")
        session.add(SlackSettings(is_enabled=True, webhook_url=closed_port_url("/slack")))
        # The previous leader last covered the schedule 70 s ago: one every-minute fire since then
        # was missed and is within the grace time, so each job runs once when FastAPI leads.
        now = utcnow()
        session.add(SchedulerLease(name="scheduler", owner_id="gone:1:0", hostname="gone", pid=1,
                                   acquired_at=now - timedelta(minutes=10),
                                   expires_at=now - timedelta(seconds=70 - LEASE_SECONDS)))
        session.commit()
        job_id = ok.id
    engine.dispose()
    # Two gunicorn workers: one /metrics must still show the whole Flask process.
    doors, processes = start_doors(url, folder, flask_workers=2, env_overrides={
        "SCHEDULER_HOST": "fastapi", "SCHEDULER_LEASE_SECONDS": str(LEASE_SECONDS),
        "SCHEDULER_MISFIRE_GRACE_SECONDS": "120",
    })
    try:
        yield Running(doors, folder, token, job_id)
    finally:
        stop_processes(processes)
        receiver.stop()
        shutil.rmtree(folder, ignore_errors=True)


def wait_for_scrape(running: Running, door: str, done: Any, timeout: float = 30.0) -> Scrape:
    deadline = time.monotonic() + timeout
    while True:
        scrape = running.scrape(door)
        if done(scrape):
            return scrape
        if time.monotonic() > deadline:
            raise AssertionError(f"/metrics of {door} never showed the expected series")
        time.sleep(0.1)


@pytest.mark.parametrize("door", ["flask", "fastapi"])
def test_requests_are_counted_and_timed_by_door_method_route_template_and_status(
    running: Running, door: str
) -> None:
    api = running.doors[door]
    assert api.call("GET", f"/jobs/{running.job_id}", running.token).status_code == 200
    assert api.call("GET", f"/no-such-route-{uuid.uuid4().hex}").status_code == 404
    scrape = running.scrape(door)
    route = JOB_ROUTE[door]
    assert scrape.value("http_requests_total", door=door, method="GET", route=route, status="200") == 1
    assert scrape.value("http_requests_total", door=door, method="GET", route="unmatched", status="404") == 1
    assert scrape.value("http_request_duration_seconds_count", door=door, method="GET", route=route) == 1
    assert scrape.value("http_request_duration_seconds_bucket", door=door, method="GET", route=route, le="+Inf") == 1
    # The route label is a template: neither the job id nor the unknown path becomes a series.
    routes = {labels["route"] for labels in scrape.labelled("http_requests_total")}
    assert not any(running.job_id in r or "no-such-route" in r for r in routes)
    assert {frozenset(labels) for labels in scrape.labelled("http_requests_total")} == {
        frozenset({"door", "method", "route", "status"})
    }


def test_the_process_holding_the_lease_counts_its_fires_lag_and_failed_notifications(running: Running) -> None:
    fastapi = wait_for_scrape(running, "fastapi", lambda s: (
        s.value("scheduler_fires_total", outcome="success") == 1
        and s.value("scheduler_fires_total", outcome="failed") == 1
        and s.value("notification_delivery_failures_total", channel="slack") == 1
    ))
    flask = running.scrape("flask")
    for scrape in (fastapi, flask):
        assert set(SERIES) <= {sample.name for sample in scrape.samples}
    assert fastapi.value("scheduler_lease_holder", host_kind="fastapi") == 1
    assert fastapi.value("scheduler_fire_failures_total") == 1
    assert fastapi.value("scheduler_fire_lag_seconds_count") == 2
    assert fastapi.value("notification_delivery_failures_total", channel="email") == 0
    assert flask.value("scheduler_lease_holder", host_kind="flask") == 0
    assert flask.value("scheduler_fires_total", outcome="success") == 0
    assert flask.value("scheduler_fire_lag_seconds_count") == 0


@pytest.mark.parametrize("door", ["flask", "fastapi"])
def test_each_log_line_is_one_json_object_and_request_lines_carry_the_request_id(
    running: Running, door: str
) -> None:
    secret = f"do-not-log-{uuid.uuid4().hex}"
    given = f"obs-{uuid.uuid4().hex}"
    base = running.doors[door].base
    echoed = httpx.get(f"{base}/health?token={secret}", timeout=10,
                       headers={"X-Request-ID": given, "Authorization": f"Bearer {secret}"})
    generated = httpx.get(f"{base}/jobs/{running.job_id}", timeout=10,
                          headers={"Authorization": f"Bearer {running.token}"})
    assert echoed.headers["X-Request-ID"] == given
    # The door logs a request once its answer has left: wait for both lines.
    for request_id in (given, generated.headers["X-Request-ID"]):
        assert wait_for_json_line(running.folder / f"{door}.log",
                                  lambda e, wanted=request_id: e.get("request_id") == wanted)
    lines = running.log_lines(door)  # every line parses, or this fails
    assert all({"ts", "level", "logger", "message", "pid"} <= line.keys() for line in lines)
    [line] = [line for line in lines if line.get("request_id") == given]
    prefix = urlsplit(base).path  # /api or /api/v2
    assert {k: line[k] for k in ("logger", "door", "method", "path", "route", "status")} == {
        "logger": "src.request", "door": door, "method": "GET", "path": f"{prefix}/health",
        "route": f"{prefix}/health", "status": 200,
    }
    assert isinstance(line["duration_ms"], float)
    assert [x["route"] for x in lines if x.get("request_id") == generated.headers["X-Request-ID"]] == [JOB_ROUTE[door]]
    # Neither the query string nor any header (the Authorization token) reaches the log.
    text = (running.folder / f"{door}.log").read_text()
    assert secret not in text and running.token not in text


def test_one_scrape_of_gunicorn_sums_the_requests_of_all_its_workers(running: Running) -> None:
    api, route = running.doors["flask"], "/api/jobs/<job_id>/executions"
    sent, pids = 0, set()
    with ThreadPoolExecutor(8) as pool:
        # Concurrent requests keep one worker busy, so the other accepts some.
        for _ in range(5):
            answers = list(pool.map(lambda _: api.call("GET", f"/jobs/{running.job_id}/executions", running.token),
                                    range(16)))
            assert {a.status_code for a in answers} == {200}
            sent += len(answers)
            pids = {line["pid"] for line in running.log_lines("flask") if line.get("route") == route}
            if len(pids) == 2:
                break
    assert len(pids) == 2
    # Whichever worker answers the scrape, it counts every worker's requests.
    for _ in range(6):
        scrape = running.scrape("flask")
        assert scrape.value("http_requests_total", door="flask", method="GET", route=route, status="200") == sent

"""Slow manual runs do not starve the legacy door (issue 15, item 6).

24 concurrent `POST /api/jobs/{id}/execute` against a target that answers only when the test
releases it: all 24 runs reach the target at once, `/api/health` answers while every one of them
is still in flight, and once released each run is recorded as a manual success. Through the
deployment's nginx and gunicorn (its settings module and worker), as `make run` starts them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.conftest import legacy_door
from tests.proxy.conftest import Stack, stack  # noqa: F401  (module-scoped fixture)
from tests.receivers import Receiver

# Runs against the side-by-side deployment (gunicorn serves /api): needs the legacy door.
pytestmark = legacy_door

RUNS = 24
ARRIVAL_WAIT_SECONDS = 60  # a bound on waiting, never an assertion on speed


@pytest.fixture
def gated_target() -> Iterator[tuple[Receiver, threading.Event]]:
    release = threading.Event()
    target = Receiver().start()
    target.respond("/slow", gate=release)
    try:
        yield target, release
    finally:
        release.set()
        target.stop()


def wait_for_arrivals(target: Receiver, count: int) -> int:
    deadline = time.monotonic() + ARRIVAL_WAIT_SECONDS
    while len(target.to("/slow")) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return len(target.to("/slow"))


def test_health_answers_while_24_manual_runs_wait_on_their_target(
        stack: Stack, gated_target: tuple[Receiver, threading.Event]) -> None:  # noqa: F811  # the imported pytest fixture, injected by name
    target, release = gated_target
    token = stack.token("/api")
    auth = {"Authorization": f"Bearer {token}"}
    with stack.client() as client:
        team = client.post("/api/pic-teams", headers=auth,
                           json={"name": "Slow Team", "slug": "slow-team", "slack_handle": "@slow"})
        assert team.status_code == 201, team.text
        created = client.post("/api/jobs", headers=auth, json={
            "name": "slow-target", "cron_expression": "0 2 1 1 *", "end_date": "2099-12-31",
            "target_url": target.url + "/slow", "pic_team": "slow-team"})
        assert created.status_code == 201, created.text
    job_id = created.json()["job"]["id"]

    def execute(_: int) -> httpx.Response:
        return httpx.post(f"{stack.base}/api/jobs/{job_id}/execute", headers=auth, timeout=120)

    with ThreadPoolExecutor(max_workers=RUNS) as pool:
        runs = [pool.submit(execute, n) for n in range(RUNS)]
        arrived = wait_for_arrivals(target, RUNS)
        health = httpx.get(f"{stack.base}/api/health", timeout=30)
        still_held = not any(run.done() for run in runs)
        release.set()
        answers = [run.result() for run in runs]

    assert arrived == RUNS  # every run was in flight at once: none waited for a request thread
    assert health.status_code == 200
    assert still_held, "a run was answered before health was: health waited for a request thread"
    assert [a.status_code for a in answers] == [200] * RUNS, [a.text for a in answers if a.status_code != 200]
    executions = httpx.get(f"{stack.base}/api/jobs/{job_id}/executions", headers=auth,
                           params={"per_page": 100}, timeout=30).json()["executions"]
    assert sorted(e["id"] for e in executions) == sorted(a.json()["execution_id"] for a in answers)
    assert {(e["status"], e["trigger_type"]) for e in executions} == {("success", "manual")}

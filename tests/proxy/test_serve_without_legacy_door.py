"""`serve` after Phase 8's deletion: no Flask importable, so the cutover composition on HTTP_PORT.

nginx sends `/api/*` to FastAPI by the internal rewrite, the FastAPI process hosts the scheduler,
the log says once that the legacy door is absent, and `phase side-by-side` refuses. Flask is
refused to the processes by an import blocker here; `make rehearse-removal` does the same on a
tree where `src/flask_app` is really deleted.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.proxy.conftest import nginx_or_skip, process_tree, wait_for
from tests.proxy.serve_process import Served, serve_env, start_serve


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    nginx_or_skip()
    folder = tmp_path_factory.mktemp("serve-without-legacy-door")
    running = start_serve(folder, serve_env(folder, without_legacy_door=True))
    try:
        wait_for(f"{running.base}/api/v2/health", served_by="fastapi", timeout=60)
        yield running
    finally:
        running.stop()


def test_api_is_served_by_fastapi_through_nginx(served: Served) -> None:
    response = httpx.get(f"{served.base}/api/health", timeout=5)
    assert (response.status_code, response.headers["X-Served-By"]) == (200, "fastapi")


def test_api_v2_is_served_by_fastapi_through_nginx(served: Served) -> None:
    response = httpx.get(f"{served.base}/api/v2/health", timeout=5)
    assert (response.status_code, response.headers["X-Served-By"]) == (200, "fastapi")


def test_a_write_under_api_answers_as_under_api_v2(served: Served) -> None:
    body = {"username": "nobody", "password": "wrong-password"}
    legacy = httpx.post(f"{served.base}/api/auth/login", json=body, timeout=5)
    new = httpx.post(f"{served.base}/api/v2/auth/login", json=body, timeout=5)
    assert legacy.status_code == new.status_code == 401
    assert legacy.json() == new.json()


def test_no_flask_process_is_started_and_the_absence_is_logged_once(served: Served) -> None:
    assert set(served.child_pids()) == {"fastapi", "nginx"}
    assert served.output().count("the legacy door is absent") == 1


def test_the_fastapi_process_takes_the_scheduler_lease(served: Served) -> None:
    fastapi_pids = process_tree(served.child_pids()["fastapi"])
    deadline = time.monotonic() + 20
    leader = None
    while time.monotonic() < deadline:
        leader = json.loads(served.cli("scheduler", "status").stdout)["leader"]
        if leader is not None and leader["pid"] in fastapi_pids:
            return
        time.sleep(0.3)
    raise AssertionError(f"the lease holder is {leader}, not a uvicorn process {fastapi_pids}")


def test_phase_side_by_side_refuses_and_changes_nothing(served: Served, tmp_path: Path) -> None:
    before = served.cli("phase", "show").stdout.splitlines()[:3]
    refused = served.cli("phase", "side-by-side", "--force")
    assert refused.returncode == 1
    assert "side-by-side needs the legacy Flask door" in refused.stderr
    assert served.cli("phase", "show").stdout.splitlines()[:3] == before
    assert before[0].startswith("phase: cutover")
    response = httpx.get(f"{served.base}/api/health", timeout=5)
    assert response.headers["X-Served-By"] == "fastapi"

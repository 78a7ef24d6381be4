"""What `serve` does when a child exits: after cutover Flask's exit stops nothing (nginx and
FastAPI serve both prefixes, the exit is reported); in side-by-side it stops the rest."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from src.config import PROJECT_ROOT
from tests.conftest import legacy_door
from tests.proxy.conftest import nginx_or_skip, wait_for
from tests.proxy.serve_process import Served, migrate, serve_env, start_serve

pytestmark = legacy_door


def _serve_at(tmp_path: Path, phase: str) -> Served:
    nginx_or_skip()
    env = serve_env(tmp_path)
    migrate(env)
    # Recorded before serve starts (nothing answers yet, hence --force); serve renders it.
    subprocess.run([sys.executable, "-m", "src.cli", "phase", phase, "--force"], cwd=PROJECT_ROOT, env=env,
                   check=True, capture_output=True, timeout=60)
    served = start_serve(tmp_path, env)
    wait_for(f"{served.base}/api/v2/health", served_by="fastapi", timeout=60)
    wait_for(f"http://127.0.0.1:{env['FLASK_PORT']}/health", served_by="flask", timeout=60)
    return served


def _wait_for_line(served: Served, text: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while text not in served.output():
        if time.monotonic() > deadline:
            raise AssertionError(f"{text!r} not in the serve log:\n{served.output()[-3000:]}")
        time.sleep(0.1)


def test_after_cutover_killing_the_gunicorn_master_leaves_both_prefixes_served(tmp_path: Path) -> None:
    served = _serve_at(tmp_path, "cutover")
    try:
        os.kill(served.child_pids()["flask"], signal.SIGKILL)
        _wait_for_line(served, "flask exited with status -9; the phase is cutover")
        for path in ("/api/health", "/api/v2/health", "/api/categories", "/api/v2/categories"):
            response = httpx.get(served.base + path, timeout=5)
            assert response.headers["X-Served-By"] == "fastapi", path
            assert response.status_code in (200, 401), (path, response.status_code)
        assert served.process.poll() is None
    finally:
        assert served.stop() == 0


def test_in_side_by_side_flasks_exit_stops_the_rest(tmp_path: Path) -> None:
    served = _serve_at(tmp_path, "side-by-side")
    try:
        os.kill(served.child_pids()["flask"], signal.SIGKILL)
        assert served.process.wait(30) == 1
        assert "flask exited with status -9; stopping the rest" in served.output()
    finally:
        served.stop()

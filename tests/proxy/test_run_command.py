"""Item 6: the README's run command (`make run`), started from a clean clone, serves /api/v2/health
and /api/health on HTTP_PORT through nginx and stops all three processes cleanly on Ctrl-C.

The clone's `.venv` is a directory of symlinks into this repository's virtualenv plus its own
install stamp, so scripts/venv.sh finds nothing to install (installing from scratch is what
.ci/run proves on every CI run). Ports are free ones passed through HTTP_PORT/FASTAPI_PORT/FLASK_PORT.
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import httpx

from src.config import PROJECT_ROOT, Settings
from tests.conftest import legacy_door
from tests.proxy.conftest import free_port, nginx_or_skip, wait_for

# The side-by-side run command starts gunicorn (Flask).
pytestmark = legacy_door


def clone_with_venv(target: Path) -> Path:
    subprocess.run(["git", "clone", "-q", str(PROJECT_ROOT), str(target)], check=True)
    venv = target / ".venv"
    venv.mkdir()
    for entry in (PROJECT_ROOT / ".venv").iterdir():
        if not entry.name.startswith(".installed-"):
            (venv / entry.name).symlink_to(entry)
    requirements = (target / "requirements.txt").read_bytes()
    legacy = (target / "requirements-legacy.txt").read_bytes()
    # The stamp scripts/venv.sh writes after installing requirements.txt and requirements-legacy.txt.
    (venv / ".installed-requirements.txt").write_text(
        hashlib.sha256(requirements * 2 + legacy).hexdigest() + "\n")
    return target


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_make_run_from_a_clean_clone_serves_both_prefixes_and_stops_on_sigint(tmp_path: Path) -> None:
    nginx_or_skip()
    clone = clone_with_venv(tmp_path / "clone")
    ports = {"HTTP_PORT": free_port(), "FLASK_PORT": free_port(), "FASTAPI_PORT": free_port()}
    env = {k: v for k, v in os.environ.items() if k not in Settings.model_fields and k != "VENV"}
    env.update({k: str(v) for k, v in ports.items()})
    env.update({"SCHEDULER_LEASE_SECONDS": "3", "GUNICORN_WORKERS": "1", "PYTHONUNBUFFERED": "1"})
    output = tmp_path / "run.log"
    with output.open("wb") as log:
        # Its own session, signalled as a whole: what Ctrl-C does to a terminal's foreground job.
        run = subprocess.Popen(["make", "run"], cwd=clone, env=env, stdin=subprocess.DEVNULL,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{ports['HTTP_PORT']}"
        wait_for(f"{base}/api/v2/health", served_by="fastapi", timeout=90)
        wait_for(f"{base}/api/health", served_by="flask", timeout=30)
        text = output.read_text()
        pids = {label: int(pid) for label, pid in re.findall(r"\[serve\] started (\w+) \(pid (\d+)\)", text)}
        assert set(pids) == {"flask", "fastapi", "nginx"}
        assert "first admin 'admin' created" in text and (clone / "var" / "cronjobs.db").exists()

        os.killpg(run.pid, signal.SIGINT)
        started = time.monotonic()
        run.wait(20)
        stopped_after = time.monotonic() - started
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()
    text = output.read_text()
    assert stopped_after < 12, text[-2000:]
    assert [label for label, pid in pids.items() if alive(pid)] == []
    for label in ("[flask]", "[fastapi]", "[nginx]", "[serve] stopped"):
        assert label in text
    for port in ports.values():
        try:
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
        except httpx.ConnectError:
            continue
        raise AssertionError(f"port {port} still answers after SIGINT")

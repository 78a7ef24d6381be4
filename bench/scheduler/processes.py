"""The benchmark's helper processes: the loopback receiver and the FastAPI door under uvicorn."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from bench.scheduler.receiver import CONTROL_PATH

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_up(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer: {log.read_text()[-2000:]}")


def _start(command: list[str], env: dict[str, str], ready_url: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_until_up(process, ready_url, log)
    except BaseException:
        stop(process)
        raise
    return process


def start_receiver(folder: Path) -> tuple[str, subprocess.Popen[bytes]]:
    """The receiver process; returns its base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    command = [sys.executable, "-m", "bench.scheduler.receiver", "--port", str(port)]
    return base, _start(command, env, base + CONTROL_PATH, folder / "receiver.log")


def start_api(environment: dict[str, str], folder: Path) -> tuple[str, subprocess.Popen[bytes]]:
    """uvicorn (1 worker, as deployed) with `create_app` and the given settings; returns /api/v2's URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}/api/v2"
    env = dict(os.environ, PYTHONPATH=str(ROOT), **environment)
    command = [sys.executable, "-m", "uvicorn", "--factory", "src.fastapi_app.main:create_app",
               "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log"]
    return base, _start(command, env, base + "/health", folder / "fastapi.log")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()

"""Both doors as real server processes on 127.0.0.1: gunicorn (Flask) and uvicorn (FastAPI).

Configured only by environment variables, as in production; used by the cross-door token tests
and the race tests.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[1]
SECRET = "cross-door-jwt-secret-of-32-bytes!!"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Door:
    name: str
    base: str  # e.g. http://127.0.0.1:5123/api

    def call(self, method: str, path: str, token: str | None = None, **kwargs: object) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = httpx.request(method, self.base + path, headers=headers, timeout=10, **kwargs)  # type: ignore[arg-type]  # httpx's keyword arguments, passed through
        assert response.headers.get("x-served-by") == self.name
        return response

    def login(self, username: str) -> dict[str, str]:
        response = self.call("POST", "/auth/login", json={"username": username, "password": PASSWORD})
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]  # JSON is untyped


def wait_until_up(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    # Generous: on a loaded 2-core CI machine a cold uvicorn import alone has taken over 30 s.
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError(f"server did not answer: {log.read_text()[-2000:]}")


def start_doors(
    database_url: str, folder: Path, *, flask_workers: int = 1, env_overrides: dict[str, str] | None = None
) -> tuple[dict[str, Door], list[subprocess.Popen[bytes]]]:
    """gunicorn and uvicorn on free ports over `database_url`, logs in `folder`; both answering."""
    env = {key: value for key, value in os.environ.items() if key != "TEST_DATABASE_URL"}
    env.update(DATABASE_URL=database_url, FLASK_ENV="development", SECRET_KEY="door-servers-secret-key",
               JWT_SECRET_KEY=SECRET, SCHEDULER_HOST="none", MAIL_ENABLED="false", ALLOW_PRIVATE_TARGETS="true",
               DEFAULT_GITHUB_OWNER="default-org", PYTHONPATH=str(ROOT))
    env.update(env_overrides or {})
    flask_port, fastapi_port = free_port(), free_port()
    commands = {
        "flask": [str(ROOT / ".venv/bin/gunicorn"), "--config", "python:src.deploy.gunicorn_conf",
                  "--bind", f"127.0.0.1:{flask_port}",
                  "--workers", str(flask_workers), "src.flask_app.wsgi:create_wsgi_app()"],
        "fastapi": [str(ROOT / ".venv/bin/uvicorn"), "--factory", "src.fastapi_app.main:create_app",
                    "--host", "127.0.0.1", "--port", str(fastapi_port)],
    }
    bases = {"flask": f"http://127.0.0.1:{flask_port}/api", "fastapi": f"http://127.0.0.1:{fastapi_port}/api/v2"}
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for name, command in commands.items():
            log = folder / f"{name}.log"
            with log.open("wb") as out:
                processes.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT))
            wait_until_up(processes[-1], bases[name] + "/health", log)
    except BaseException:
        stop_processes(processes)
        raise
    return {name: Door(name, base) for name, base in bases.items()}, processes


def stop_processes(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

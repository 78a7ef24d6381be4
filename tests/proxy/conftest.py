"""A real deployment per test module: gunicorn (Flask), uvicorn (FastAPI) and a private Debian
nginx, on free loopback ports, with an SQLite file, nginx prefix and logs under tmp_path.

The commands are the supervisor's own (`src.deploy.supervisor.split_children`), so these tests run
what `make run` runs. Without nginx the tests skip, or fail when REQUIRE_NGINX=1 (CI).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from src.config import PROJECT_ROOT, Settings
from src.database.migrate import upgrade_to_head
from src.deploy.nginx import NginxInstance, find_nginx, render
from src.deploy.supervisor import split_children

ADMIN = {"username": "proxy-admin", "email": "proxy-admin@example.com", "password": "proxy-secret-123"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def process_tree(pid: int) -> set[int]:
    """The process and its descendants: uvicorn with FASTAPI_WORKERS > 1 serves from its children."""
    tree, pending = set(), [pid]
    while pending:
        current = pending.pop()
        tree.add(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                pending += [int(child) for child in (task / "children").read_text().split()]
            except OSError:
                continue
    return tree


def nginx_or_skip() -> str:
    binary = find_nginx()
    if binary is None:
        message = "nginx is not installed (apt-get install nginx); the proxy tests need a real nginx"
        if os.environ.get("REQUIRE_NGINX") == "1":
            pytest.fail(message + " and REQUIRE_NGINX=1", pytrace=False)
        pytest.skip(message)
    return binary


def wait_for(url: str, *, served_by: str | None = None, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            response = httpx.get(url, timeout=2)
            last = response.status_code
            if response.status_code == 200 and served_by in (None, response.headers.get("X-Served-By")):
                return
        except httpx.HTTPError as exc:
            last = exc
        time.sleep(0.1)
    raise AssertionError(f"{url} not ready after {timeout} s (last: {last!r})")


class Stack:
    """The three processes of one deployment, started and stopped by the test."""

    def __init__(self, root: Path, nginx_binary: str, *, app_targets: dict[str, str] | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.root = root
        # Test builds of the apps in place of the production factories (tests/proxy/faulty_apps.py).
        self.app_targets = app_targets or {}
        self.http_port, self.flask_port, self.fastapi_port = free_port(), free_port(), free_port()
        self.env = {
            **{k: v for k, v in os.environ.items() if k not in Settings.model_fields},
            "DATABASE_URL": f"sqlite:///{root / 'db.sqlite'}",
            "HTTP_PORT": str(self.http_port),
            "FLASK_PORT": str(self.flask_port),
            "FASTAPI_PORT": str(self.fastapi_port),
            "NGINX_PREFIX": str(root / "nginx"),
            "NGINX_BIN": nginx_binary,
            "FLASK_ENV": "development",
            "SECRET_KEY": "proxy-test-secret-key-of-at-least-32-bytes",
            "JWT_SECRET_KEY": "proxy-test-jwt-secret-key-of-at-least-32-bytes",
            "SCHEDULER_HOST": "flask",
            # A short lease: the scheduler changes hands within a second of a phase switch.
            "SCHEDULER_LEASE_SECONDS": "3",
            "SCHEDULER_SYNC_SECONDS": "1",
            "ALLOW_PRIVATE_TARGETS": "true",
            "MAIL_ENABLED": "false",
            "GITHUB_API_BASE_URL": "http://127.0.0.1:9",
            "DEFAULT_GITHUB_OWNER": "proxy-org",
            "GUNICORN_WORKERS": "1",
            # One process per door, so a door's /metrics is the whole door's without a metrics
            # folder; several FastAPI workers: tests/scheduler/fastapi_workers.py.
            "FASTAPI_WORKERS": "1",
            "ADMIN_USERNAME": ADMIN["username"],
            "ADMIN_EMAIL": ADMIN["email"],
            "ADMIN_PASSWORD": ADMIN["password"],
            "PYTHONUNBUFFERED": "1",
        }
        self.env.update(env or {})
        self.env.pop("TEST_DATABASE_URL", None)
        self.settings = Settings(_env_file=None, **{k: self.env[k] for k in Settings.model_fields  # type: ignore[call-arg]  # pydantic-settings' _env_file is no declared field
                                                   if k in self.env})
        self.nginx = NginxInstance(nginx_binary, root / "nginx")
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.base = f"http://127.0.0.1:{self.http_port}"

    # --- processes -------------------------------------------------------------------------

    def log_path(self, label: str) -> Path:
        return self.root / f"{label}.log"

    def start(self, label: str) -> None:
        child = next(c for c in split_children(self.settings, self.nginx) if c.label == label)
        argv = [self.app_targets.get(arg, arg) for arg in child.argv]
        with self.log_path(label).open("ab") as log:
            self.processes[label] = subprocess.Popen(
                argv, cwd=PROJECT_ROOT, env=self.env, stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        if label == "flask":
            wait_for(f"http://127.0.0.1:{self.flask_port}/health", served_by="flask")
        elif label == "fastapi":
            wait_for(f"http://127.0.0.1:{self.fastapi_port}/health", served_by="fastapi")
        else:
            deadline = time.monotonic() + 10
            while self.nginx.running_pid() is None and time.monotonic() < deadline:
                time.sleep(0.05)

    def stop(self, label: str) -> None:
        process = self.processes.pop(label, None)
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGQUIT if label == "nginx" else signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def pid(self, label: str) -> int:
        return self.processes[label].pid

    def start_all(self) -> None:
        upgrade_to_head(self.settings)
        subprocess.run([sys.executable, "-m", "src.cli", "ensure-admin"], cwd=PROJECT_ROOT, env=self.env,
                       check=True, capture_output=True)
        self.nginx.install(render("side-by-side", self.settings))
        for label in ("flask", "fastapi", "nginx"):
            self.start(label)
        wait_for(f"{self.base}/api/health", served_by="flask")

    def stop_all(self) -> None:
        for label in ("nginx", "flask", "fastapi"):
            self.stop(label)

    # --- operator commands -----------------------------------------------------------------

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "src.cli", *args], cwd=PROJECT_ROOT, env=self.env,
                              capture_output=True, text=True, timeout=60)

    def phase(self, name: str) -> None:
        done = self.cli("phase", name)
        assert done.returncode == 0, done.stdout + done.stderr

    # --- client helpers --------------------------------------------------------------------

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base, timeout=30)

    def token(self, prefix: str = "/api") -> str:
        response = httpx.post(f"{self.base}{prefix}/auth/login", timeout=30,
                              json={"username": ADMIN["username"], "password": ADMIN["password"]})
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    binary = nginx_or_skip()
    deployment = Stack(tmp_path_factory.mktemp("deployment"), binary)
    try:
        deployment.start_all()
        yield deployment
    finally:
        deployment.stop_all()

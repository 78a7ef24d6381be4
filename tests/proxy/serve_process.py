"""`python -m src.cli serve` as a real process on free ports, its labelled output in a file.

An SQLite file, an nginx prefix and the log live under the test's folder; `without_legacy_door`
starts it where `flask` cannot be imported (a `sitecustomize` on PYTHONPATH refuses it in serve
and in every child), which is what Phase 8's deletion leaves.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from src.config import PROJECT_ROOT, Settings
from tests.conftest import make_settings
from tests.proxy.conftest import free_port

FLASK_BLOCKER = '''
class _FlaskBlocker:
    """Refuses `flask` and every `flask_*` package, as a virtualenv without them would."""

    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top == "flask" or top.startswith("flask_"):
            raise ModuleNotFoundError(f"No module named {name!r} (blocked: no legacy door)")
        return None


import sys

sys.meta_path.insert(0, _FlaskBlocker())
'''


@dataclass
class Served:
    """A running `serve` and what it was given."""

    process: subprocess.Popen[bytes]
    env: dict[str, str]
    log: Path
    http_port: int

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def settings(self) -> Settings:
        return make_settings(self.env["DATABASE_URL"])

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def child_pids(self) -> dict[str, int]:
        return {label: int(pid) for label, pid in re.findall(r"\[serve\] started (\w+) \(pid (\d+)\)", self.output())}

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """A `python -m src.cli` command with this deployment's environment."""
        return subprocess.run([sys.executable, "-m", "src.cli", *args], cwd=PROJECT_ROOT, env=self.env,
                              capture_output=True, text=True, timeout=60, check=False)

    def stop(self) -> int:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        return self.process.returncode


def serve_env(folder: Path, *, without_legacy_door: bool = False, **settings: str) -> dict[str, str]:
    """The environment of a deployment under `folder`: free ports, own database and nginx prefix."""
    env = {k: v for k, v in os.environ.items()
           if k not in Settings.model_fields and not k.startswith(("PYTEST_", "API_TRANSPORT"))}
    env.update({
        "HTTP_PORT": str(free_port()), "FASTAPI_PORT": str(free_port()), "FLASK_PORT": str(free_port()),
        "DATABASE_URL": f"sqlite:///{folder / 'serve.db'}", "NGINX_PREFIX": str(folder / "nginx"),
        "SCHEDULER_LEASE_SECONDS": "3", "GUNICORN_WORKERS": "1", "PYTHONUNBUFFERED": "1",
        "JWT_SECRET_KEY": "serve-test-jwt-secret-of-enough-length", **settings,
    })
    if without_legacy_door:
        blocker = folder / "no-legacy-door"
        blocker.mkdir(exist_ok=True)
        (blocker / "sitecustomize.py").write_text(FLASK_BLOCKER, encoding="utf-8")
        env["PYTHONPATH"] = os.pathsep.join([str(blocker), str(PROJECT_ROOT)])
    return env


def migrate(env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "-m", "src.cli", "migrate"], cwd=PROJECT_ROOT, env=env, check=True,
                   capture_output=True, timeout=120)


def start_serve(folder: Path, env: dict[str, str]) -> Served:
    """Migrate, then start `serve` in a session of its own (signalled as a whole, like Ctrl-C)."""
    migrate(env)
    log = folder / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "src.cli", "serve"], cwd=PROJECT_ROOT, env=env,
                                   stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    return Served(process, env, log, int(env["HTTP_PORT"]))

"""`python -m src.cli serve`: run the deployment in the foreground, logs labelled and interleaved.

With nginx: gunicorn (Flask) on FLASK_PORT, uvicorn (FastAPI) on FASTAPI_PORT, and the private
nginx on HTTP_PORT with the stored phase's config. Without an nginx binary: one uvicorn serving
the embedded composition (src/asgi.py) on HTTP_PORT. Without the legacy door (Phase 8 deleted
`src/flask_app`, or Flask is not installed) no gunicorn starts and nginx gets the cutover config.
Each child runs in its own session so a terminal's Ctrl-C reaches only this supervisor, which then
stops nginx first (no new requests), then the apps, each gracefully and within a bound. Any
child's exit stops the rest, except Flask's after cutover: nginx and FastAPI serve without it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import IO

from src.config import PROJECT_ROOT, Settings, legacy_door_installed
from src.core.phases import API_DOOR, phase_in_force
from src.deploy.nginx import NginxError, NginxInstance, default_prefix, find_nginx, render
from src.deploy.phases import stored_phase
from src.observability.metrics import MULTIPROCESS_DIR_VARIABLE

STOP_GRACE_SECONDS = 10.0
# Idle upstream connections outlive nginx's (keepalive_timeout 60 s by default), so nginx always
# closes first and never reuses a connection the app is closing at that instant (a 502).
APP_KEEPALIVE_SECONDS = 75
_print_lock = threading.Lock()


def say(label: str, line: str, stream: IO[str] = sys.stdout) -> None:
    with _print_lock:
        stream.write(f"[{label}] {line}\n")
        stream.flush()


@dataclass
class Child:
    """One supervised process and the thread copying its output, line by line, labelled."""

    label: str
    argv: Sequence[str]
    stop_signal: signal.Signals = signal.SIGTERM
    # The door that serves /api in side-by-side only: after cutover its exit stops nothing else.
    legacy_door: bool = False
    # Variables this child gets on top of the supervisor's environment.
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    pump: threading.Thread | None = field(default=None, repr=False)

    def start(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            list(self.argv), cwd=PROJECT_ROOT, env={**env, **self.env}, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
        )
        self.pump = threading.Thread(target=self._copy_output, name=f"log-{self.label}", daemon=True)
        self.pump.start()
        say("serve", f"started {self.label} (pid {self.process.pid})")

    def _copy_output(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for raw in iter(self.process.stdout.readline, b""):
            say(self.label, raw.decode("utf-8", "replace").rstrip("\n"))

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, deadline: float) -> None:
        if not self.running():
            self._stop_leftovers()
            return
        assert self.process is not None
        self.process.send_signal(self.stop_signal)
        try:
            self.process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            say("serve", f"{self.label} did not stop in time; killing it")
            self.process.kill()
            self.process.wait()
        self._stop_leftovers()
        if self.pump is not None:
            self.pump.join(2)

    def _stop_leftovers(self) -> None:
        """Processes of the child's session that outlived it (uvicorn's workers after its master died)."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGTERM)  # its own session: the group id is its pid


def _python_module(*args: str) -> list[str]:
    return [sys.executable, "-m", *args]


def _gunicorn_control_socket_off() -> list[str]:
    # gunicorn >= 25.1 opens a control socket at one per-user path (~/.gunicorn/gunicorn.ctl);
    # several deployments (or test runs) on one machine would fight over it.
    try:
        major, minor = (int(part) for part in version("gunicorn").split(".")[:2])
    except (PackageNotFoundError, ValueError):
        return []
    return ["--no-control-socket"] if (major, minor) >= (25, 1) else []


# uvicorn's parser refusals in the JSON envelope (a string: src.deploy imports no uvicorn).
ENVELOPE_HTTP_PROTOCOL = "src.fastapi_app.server_refusals:EnvelopeHttpProtocol"


def fastapi_worker_options(settings: Settings) -> list[str]:
    """uvicorn's `--workers`: one process per FASTAPI_WORKERS, each a whole FastAPI app."""
    return ["--workers", str(settings.FASTAPI_WORKERS)]


def split_children(settings: Settings, nginx: NginxInstance, *, legacy: bool = True,
                   fastapi_metrics_dir: Path | None = None) -> list[Child]:
    """Flask (when `legacy`), FastAPI and nginx, each on its own port.

    `fastapi_metrics_dir`: where FastAPI's workers write their Prometheus values, so `/metrics`
    renders their sum (src/observability/metrics.py); a folder of its own, never Flask's.
    """
    fastapi_env = {MULTIPROCESS_DIR_VARIABLE: str(fastapi_metrics_dir)} if fastapi_metrics_dir else {}
    flask = [
        Child("flask", _python_module(
            "gunicorn", "src.flask_app.wsgi:create_wsgi_app()", "--config", "python:src.deploy.gunicorn_conf",
            "--bind", f"127.0.0.1:{settings.FLASK_PORT}",
            "--workers", os.environ.get("GUNICORN_WORKERS", "2"),
            "--threads", os.environ.get("GUNICORN_THREADS", "4"),
            "--graceful-timeout", "8", "--error-logfile", "-",
            "--forwarded-allow-ips", settings.TRUSTED_PROXIES, *_gunicorn_control_socket_off(),
            "--keep-alive", str(APP_KEEPALIVE_SECONDS),
        ), legacy_door=True),
    ] if legacy else []
    return [
        *flask,
        Child("fastapi", _python_module(
            "uvicorn", "--factory", "src.fastapi_app.main:create_app",
            "--host", "127.0.0.1", "--port", str(settings.FASTAPI_PORT), "--http", ENVELOPE_HTTP_PROTOCOL,
            # The app servers believe forwarded headers from the same peers as the doors' own rule
            # (src/core/client_address.py), so a non-default TRUSTED_PROXIES holds everywhere.
            "--proxy-headers", "--forwarded-allow-ips", settings.TRUSTED_PROXIES,
            "--no-access-log", "--timeout-graceful-shutdown", "8",
            "--timeout-keep-alive", str(APP_KEEPALIVE_SECONDS), *fastapi_worker_options(settings),
        ), env=fastapi_env),
        # SIGQUIT: nginx's graceful shutdown (finish requests in flight, then exit).
        Child("nginx", nginx.foreground_command(), stop_signal=signal.SIGQUIT),
    ]


def embedded_children(settings: Settings) -> list[Child]:
    host = os.environ.get("HTTP_HOST", "127.0.0.1")
    return [Child("embedded", _python_module(
        "uvicorn", "--factory", "src.asgi:create_app", "--host", host, "--port", str(settings.HTTP_PORT),
        "--http", ENVELOPE_HTTP_PROTOCOL,
        "--proxy-headers", "--forwarded-allow-ips", settings.TRUSTED_PROXIES,
        "--no-access-log", "--timeout-graceful-shutdown", "8",
    ))]


def _legacy_exit_tolerated(settings: Settings) -> bool:
    """After cutover Flask serves nothing nginx needs; unreadable phase: assume it mattered."""
    try:
        return API_DOOR[phase_in_force(stored_phase(settings).phase)] != "flask"
    except Exception:  # noqa: BLE001 - a database hiccup must not hide the exit
        return False


def serve(settings: Settings) -> int:
    """Run in the foreground until SIGINT/SIGTERM or a needed child's exit; returns the exit status."""
    legacy = legacy_door_installed()
    if not legacy:
        say("serve", "the legacy door is absent (src/flask_app or Flask not installed): serving the cutover "
                     "composition, FastAPI answers /api and /api/v2 and hosts the scheduler")
    binary = find_nginx()
    metrics_dir: Path | None = None
    if binary is None:
        say("serve", "no nginx binary found (install nginx or set NGINX_BIN): serving the embedded "
                     f"composition (src/asgi.py) on port {settings.HTTP_PORT}")
        children = embedded_children(settings)
    else:
        nginx = NginxInstance(binary, default_prefix())
        phase = phase_in_force(stored_phase(settings).phase)
        try:
            nginx.install(render(phase, settings))
        except NginxError as exc:
            say("serve", str(exc), sys.stderr)
            return 1
        doors = f"Flask on {settings.FLASK_PORT}, " if legacy else ""
        say("serve", f"phase {phase}; nginx on port {settings.HTTP_PORT} "
                     f"(prefix {nginx.prefix}), {doors}FastAPI on {settings.FASTAPI_PORT}")
        # Emptied by being new: values a previous run left would be added to this run's.
        metrics_dir = Path(tempfile.mkdtemp(prefix="cronjobs-fastapi-metrics-"))
        children = split_children(settings, nginx, legacy=legacy, fastapi_metrics_dir=metrics_dir)
        say("serve", f"FastAPI runs {settings.FASTAPI_WORKERS} worker(s) (FASTAPI_WORKERS)")

    stop_requested = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        stop_requested.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    status = 0
    watched = list(children)
    try:
        for child in children:
            child.start(env)
        while not stop_requested.wait(0.2):
            exited = [child for child in watched if not child.running()]
            if not exited:
                continue
            needed = []
            for child in exited:
                assert child.process is not None
                watched.remove(child)
                if child.legacy_door and _legacy_exit_tolerated(settings):
                    say("serve", f"{child.label} exited with status {child.process.returncode}; the phase is "
                                 "cutover, so nginx and FastAPI go on serving /api and /api/v2")
                else:
                    say("serve", f"{child.label} exited with status {child.process.returncode}; stopping the rest")
                    needed.append(child)
            if needed:
                status = 1
                break
    finally:
        say("serve", "stopping: nginx first, then the apps")
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        # nginx stops taking requests first; the apps then finish what they have.
        for child in reversed(children):
            if child.label == "nginx":
                child.stop(deadline)
        others = [child for child in children if child.label != "nginx"]
        for child in others:
            if child.running():
                assert child.process is not None
                child.process.send_signal(child.stop_signal)
        for child in others:
            child.stop(deadline)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)
        say("serve", "stopped")
    return status

"""Start and stop what the API benchmark measures, all on free loopback ports.

- the deployment as `make run` (`python -m src.cli serve`) runs it, worker counts included:
  gunicorn (Flask, GUNICORN_WORKERS 2 x GUNICORN_THREADS 4, gthread) and uvicorn (FastAPI,
  FASTAPI_WORKERS: one per core) behind the private nginx, phase side-by-side;
- the ceiling: bench/api/hello.py under uvicorn with the door's flags, behind a second private
  nginx rendered from the same template (its /api/v2 upstream is the hello app);
- the slow receiver for test-run.

The scheduler is off (SCHEDULER_HOST=none) so nothing but the benchmark's requests runs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from src.config import PROJECT_ROOT, Settings
from src.deploy.nginx import NginxInstance, find_nginx, render
from src.deploy.supervisor import APP_KEEPALIVE_SECONDS

START_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 20
DRAIN_TIMEOUT_SECONDS = 60
# A health probe this quick (or 3x its idle time, if more) means no backlog is left in front of it.
DRAINED_PROBE_SECONDS = 0.05
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bench_environment(database_url: str, ports: dict[str, int], nginx_prefix: Path) -> dict[str, str]:
    """The deployment's settings: production mode, explicit secrets, loopback targets allowed."""
    return {
        # Worker counts as `make run` leaves them (its defaults), whatever this shell exports.
        **{key: value for key, value in os.environ.items()
           if not key.startswith(("SCHEDULER_", "ADMIN_", "GUNICORN_", "FASTAPI_WORKERS"))},
        "DATABASE_URL": database_url,
        "FLASK_ENV": "production",
        "SECRET_KEY": "bench-secret-key-0123456789abcdef0123456789",
        "JWT_SECRET_KEY": "bench-jwt-secret-key-0123456789abcdef01234",
        # A full run takes about 25 minutes; the tokens are minted once, at the start.
        "JWT_ACCESS_TOKEN_EXPIRES": "86400",
        "CORS_ORIGINS": "http://localhost:5173",
        # test-run calls the slow receiver on 127.0.0.1, which production refuses by default.
        "ALLOW_PRIVATE_TARGETS": "true",
        "SCHEDULER_HOST": "none",
        "MAIL_ENABLED": "false",
        "GITHUB_TOKEN": "",
        "GITHUB_API_BASE_URL": "http://127.0.0.1:9",
        "DEFAULT_GITHUB_OWNER": "bench-org",
        "HTTP_PORT": str(ports["http"]),
        "FLASK_PORT": str(ports["flask"]),
        "FASTAPI_PORT": str(ports["fastapi"]),
        # The door comparison measures the doors alone; bench.api.shadow measures the mirror on/off.
        "SHADOW_READS": "off",
        "NGINX_PREFIX": str(nginx_prefix),
        "PYTHONUNBUFFERED": "1",
    }


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            found += [int(child) for child in (task / "children").read_text().split()]
    except OSError:
        pass
    return found


# The last line of a traceback: a dotted exception name, maybe a message (`starlette.requests.ClientDisconnect`).
_EXCEPTION_LINE = re.compile(r"^(?:[A-Za-z_]\w*\.)*[A-Z]\w*(?::.*)?$")


def _json_error(text: str) -> str:
    """A JSON log entry's exception (its traceback's last line), else its message."""
    try:
        entry = json.loads(text)
    except ValueError:
        return text.strip()[:200]
    exception = str(entry.get("exception") or "").strip().splitlines()
    return (exception[-1] if exception else str(entry.get("message")))[:200]


def process_tree(pid: int) -> list[int]:
    """The process and all its descendants."""
    tree, pending = [], [pid]
    while pending:
        current = pending.pop()
        tree.append(current)
        pending += _children(current)
    return tree


def _workers(pid: int) -> list[int]:
    """A server's worker processes: gunicorn's forks, uvicorn's spawned workers (not its resource tracker)."""
    return [child for child in _children(pid) if "resource_tracker" not in _cmdline(child)]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def rss_mb(pid: int, tree: bool = True) -> float:
    """Resident memory (VmRSS) of the process (and its descendants), in MB."""
    total_kb = 0
    for member in process_tree(pid) if tree else [pid]:
        try:
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
        except OSError:
            continue
    return total_kb / 1024


def cpu_seconds(pid: int, tree: bool = True) -> float:
    """User + system CPU time of the process (and its living descendants)."""
    total = 0
    for member in process_tree(pid) if tree else [pid]:
        try:
            # Fields after the command (which may hold spaces) start after the last ')'.
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / _CLOCK_TICKS


@dataclass
class Stack:
    """The running processes; `servers` maps a label to the pid whose tree is measured."""

    folder: Path
    database_url: str
    ports: dict[str, int] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    servers: dict[str, int] = field(default_factory=dict)
    # Health-probe latency of each door when nothing else runs (calibrated on first use, before load).
    idle_probe_seconds: dict[str, float] = field(default_factory=dict)
    # Settings for the deployment beyond bench_environment's (bench.api.shadow turns SHADOW_READS on).
    extra_env: dict[str, str] = field(default_factory=dict)
    # Labels of the nginx instances started with start_nginx (bench.api.shadow: mirror off and on).
    extra_nginx: list[str] = field(default_factory=list)
    # One client for every probe: a new httpx client per call costs an SSL context (tens of ms).
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=DRAIN_TIMEOUT_SECONDS))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports['http']}"

    @property
    def hello_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['hello_http']}"

    @property
    def receiver_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['receiver']}"

    def start(self) -> None:
        self.ports = {name: free_port() for name in ("http", "flask", "fastapi", "hello", "hello_http", "receiver")}
        env = {**bench_environment(self.database_url, self.ports, self.folder / "nginx"), **self.extra_env}
        try:
            self._spawn("serve", [sys.executable, "-m", "src.cli", "serve"], env)
            self._spawn("hello", [sys.executable, "-m", "uvicorn", "bench.api.hello:app",
                                  "--host", "127.0.0.1", "--port", str(self.ports["hello"]),
                                  "--proxy-headers", "--forwarded-allow-ips", "127.0.0.1", "--no-access-log",
                                  "--timeout-keep-alive", str(APP_KEEPALIVE_SECONDS)], env)
            self._start_hello_nginx(env)
            self._spawn("receiver", [sys.executable, "-m", "bench.api.slow_receiver",
                                     "--port", str(self.ports["receiver"]), "--delay", "0.2"], env)
            self._wait_until_up()
            self._find_servers()
        except BaseException:
            self.stop()
            raise

    def _spawn(self, label: str, command: list[str], env: dict[str, str]) -> None:
        # Own session: a Ctrl-C in the terminal reaches only the benchmark, which stops these in order.
        with (self.folder / f"{label}.log").open("wb") as log:
            self.processes[label] = subprocess.Popen(
                command, cwd=PROJECT_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)

    def _start_hello_nginx(self, env: dict[str, str]) -> None:
        binary = find_nginx()
        if binary is None:
            raise RuntimeError("the API benchmark needs nginx (apt-get install nginx, or set NGINX_BIN)")
        # The door's own template: /api/v2/* (and, unused, /api/*) go to the hello app.
        settings = Settings(_env_file=None, HTTP_PORT=self.ports["hello_http"],  # type: ignore[call-arg]  # pydantic-settings' _env_file is no declared field
                            FLASK_PORT=self.ports["hello"], FASTAPI_PORT=self.ports["hello"])
        nginx = NginxInstance(binary, self.folder / "nginx-hello")
        nginx.install(render("side-by-side", settings))
        self._spawn("hello-nginx", nginx.foreground_command(), env)

    def start_nginx(self, label: str, **settings: object) -> str:
        """Another nginx in front of the same doors, side-by-side config rendered with `settings`; its URL.

        Measured (cpu, memory) and stopped as `label`, like the stack's own servers.
        """
        binary = find_nginx()
        assert binary is not None, "the stack started without nginx"
        port = free_port()
        config = Settings(_env_file=None, HTTP_PORT=port, FLASK_PORT=self.ports["flask"],  # type: ignore[call-arg]  # pydantic-settings' _env_file is no declared field
                          FASTAPI_PORT=self.ports["fastapi"], **settings)
        nginx = NginxInstance(binary, self.folder / label)
        nginx.install(render("side-by-side", config, http_host="127.0.0.1"))
        self.extra_nginx.append(label)
        self._spawn(label, nginx.foreground_command(), dict(os.environ))
        self.ports[label] = port
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not self._answers(f"{url}/api/health", "flask"):
            if self.processes[label].poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{label} did not answer:\n{self.log_tail(label)}")
            time.sleep(0.2)
        self.servers[label] = self.processes[label].pid
        return url

    def _ready_probes(self) -> dict[str, str | None]:
        """URL -> the X-Served-By it must answer with (None: any), for every started server."""
        return {
            f"{self.url}/api/health": "flask",
            f"{self.url}/api/v2/health": "fastapi",
            f"{self.hello_url}/api/v2/hello": None,
            f"{self.receiver_url}/count": None,
        }

    def _wait_until_up(self) -> None:
        probes = self._ready_probes()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        for url, served_by in probes.items():
            while not self._answers(url, served_by):
                for label, process in self.processes.items():
                    if process.poll() is not None:
                        raise RuntimeError(f"{label} exited with {process.returncode}:\n{self.log_tail(label)}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{url} did not answer within {START_TIMEOUT_SECONDS} s:\n"
                                       f"{self.log_tail('serve')}")
                time.sleep(0.2)

    def _answers(self, url: str, served_by: str | None) -> bool:
        try:
            response = self.client.get(url, timeout=2)
        except httpx.HTTPError:
            return False
        return response.status_code == 200 and (served_by is None or response.headers.get("x-served-by") == served_by)

    def _find_servers(self) -> None:
        """The pids to measure: the supervisor's children, told apart by their command line."""
        self.servers = {"supervisor": self.processes["serve"].pid}
        for child in _children(self.processes["serve"].pid):
            command = _cmdline(child)
            for label, marker in (("flask", "gunicorn"), ("fastapi", "uvicorn"), ("nginx", "nginx")):
                if marker in command:
                    self.servers[label] = child
        self.servers["hello"] = self.processes["hello"].pid
        missing = {"flask", "fastapi", "nginx"} - set(self.servers)
        if missing:
            raise RuntimeError(f"serve started no {', '.join(sorted(missing))}:\n{self.log_tail('serve')}")

    def read_cache_counts(self) -> dict[str, float]:
        """The FastAPI door's read-cache outcomes so far (hit, miss, bypass), summed over its workers."""
        text = self.client.get(f"http://127.0.0.1:{self.ports['fastapi']}/metrics", timeout=10).text
        return {sample.labels["outcome"]: sample.value
                for family in text_string_to_metric_families(text) for sample in family.samples
                if sample.name == "read_cache_total"}

    def receiver_count(self) -> int:
        return int(self.client.get(f"{self.receiver_url}/count", timeout=5).json()["answered"])

    def memory(self) -> dict[str, float]:
        """RSS of each server's tree, and of its largest worker process (`fastapi worker`)."""
        # The supervisor alone: its descendants are the servers, counted under their own labels.
        found = {label: round(rss_mb(pid, tree=label != "supervisor"), 1) for label, pid in self.servers.items()}
        for label in ("flask", "fastapi"):
            if label in self.servers:
                workers = _workers(self.servers[label]) or [self.servers[label]]
                found[f"{label} worker"] = round(max(rss_mb(pid, tree=False) for pid in workers), 1)
        return found

    def cpu(self) -> dict[str, float]:
        return {label: cpu_seconds(pid, tree=label != "supervisor") for label, pid in self.servers.items()}

    def probe(self, url: str, timeout: float) -> float:
        """Seconds a GET took to answer 200, or infinity."""
        started = time.monotonic()
        try:
            ok = self.client.get(url, timeout=timeout).status_code == 200
        except httpx.HTTPError:
            ok = False
        return time.monotonic() - started if ok else float("inf")

    def calibrate(self, health_urls: list[str]) -> None:
        """Each door's health-probe latency with no load, the yardstick of `wait_until_drained`."""
        for url in health_urls:
            self.idle_probe_seconds[url] = statistics.median(self.probe(url, 2) for _ in range(5))

    def wait_until_drained(self, health_url: str, timeout: float = DRAIN_TIMEOUT_SECONDS) -> bool:
        """Wait until the door answers its health probe quickly again, twice in a row.

        wrk stops with requests still queued in the server (nginx drops the client, the app still
        runs what it accepted); measuring before they are done would charge one run's backlog to
        the next run, or to the other door through the shared CPUs.
        """
        if health_url not in self.idle_probe_seconds:
            self.calibrate([health_url])
        quick = max(DRAINED_PROBE_SECONDS, 3 * self.idle_probe_seconds[health_url])
        deadline = time.monotonic() + timeout
        quick_in_a_row = 0
        while time.monotonic() < deadline:
            remaining = max(0.1, deadline - time.monotonic())
            quick_in_a_row = quick_in_a_row + 1 if self.probe(health_url, remaining) < quick else 0
            if quick_in_a_row == 2:
                return True
            time.sleep(0.1)
        return False

    def logged_errors(self) -> dict[str, int]:
        """How many ERROR entries each server logged, by server and exception ("fastapi: ValueError: x")."""
        counts: dict[str, int] = {}
        pending: dict[str, str] = {}  # plain-text ERROR lines whose traceback has not ended yet

        def count(key: str) -> None:
            counts[key] = counts.get(key, 0) + 1

        try:
            with (self.folder / "serve.log").open(errors="replace") as log:
                for line in log:
                    label, _, text = line.rstrip("\n").partition("] ")
                    label = label.lstrip("[")
                    if '"level": "ERROR"' in text:
                        count(f"{label}: {_json_error(text)}")
                    elif " ERROR " in text or text.startswith("ERROR:"):
                        if label in pending:
                            count(f"{label}: {pending.pop(label)}")
                        pending[label] = text.strip()[-120:]
                    elif label in pending and _EXCEPTION_LINE.match(text):
                        # Plain-text logs: the traceback's last line names the exception.
                        pending.pop(label)
                        count(f"{label}: {text.strip()[:200]}")
        except OSError:
            pass
        for label, text in pending.items():
            count(f"{label}: {text}")
        return counts

    def log_tail(self, label: str, lines: int = 40) -> str:
        try:
            return "\n".join((self.folder / f"{label}.log").read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        """nginx and the apps stop through the supervisor (nginx first); the rest directly, extra nginx first."""
        order = [*((label, signal.SIGQUIT) for label in self.extra_nginx), ("serve", signal.SIGTERM),
                 ("hello-nginx", signal.SIGQUIT), ("hello", signal.SIGTERM),
                 ("receiver", signal.SIGTERM)]
        for label, stop_signal in order:
            process = self.processes.get(label)
            if process is not None and process.poll() is None:
                process.send_signal(stop_signal)
        self.client.close()
        for label, _signal in order:
            process = self.processes.get(label)
            if process is None:
                continue
            try:
                process.wait(STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                # Its own session: the group holds it and anything it started.
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@contextmanager
def running(stack: Stack, *, keep: bool = False) -> Iterator[Stack]:
    """The started stack; the serve log's tail on a failure; always stopped, its folder removed unless `keep`."""
    stack.start()
    try:
        yield stack
    except BaseException:
        print(f"--- serve log (tail) ---\n{stack.log_tail('serve')}", file=sys.stderr)
        raise
    finally:
        stack.stop()
        if not keep:
            shutil.rmtree(stack.folder, ignore_errors=True)

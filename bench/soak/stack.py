"""The real deployment for the soak: `python -m src.cli serve` (nginx + gunicorn + uvicorn) on free ports.

Configured by environment only, as in production. The supervisor's interleaved output goes to a
log file (request ids included) so a 5xx found by the soak can be looked up afterwards.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
APP_KINDS = ("flask", "fastapi", "nginx")


def _children_of(pid: int) -> list[int]:
    """Direct children of `pid`, read from /proc (no psutil needed)."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # The command name may contain spaces and parentheses; ppid is the 2nd field after the last ')'.
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            children.append(int(entry.name))
    return children


def _cmdline(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def vm_rss_kib(pid: int) -> int:
    """VmRSS of one process in KiB (0 when it is gone)."""
    try:
        for line in (Path("/proc") / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


@dataclass
class Stack:
    """A running supervisor and the ports it serves on."""

    process: subprocess.Popen[bytes]
    http_port: int
    flask_port: int
    fastapi_port: int
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def app_pids(self) -> dict[str, list[int]]:
        """Each app's processes: the supervisor's child plus its own children (gunicorn workers)."""
        found: dict[str, list[int]] = {kind: [] for kind in APP_KINDS}
        for child in _children_of(self.process.pid):
            command = _cmdline(child)
            kind = ("flask" if "gunicorn" in command else "fastapi" if "uvicorn" in command
                    else "nginx" if "nginx" in command else None)
            if kind is not None:
                found[kind] = [child, *_children_of(child)]
        return found

    def rss_kib(self) -> dict[str, dict[str, object]]:
        """VmRSS per app, summed over its processes (gunicorn master + workers), with the parts."""
        result: dict[str, dict[str, object]] = {}
        for kind, pids in self.app_pids().items():
            parts = {pid: vm_rss_kib(pid) for pid in pids}
            result[kind] = {"total_kib": sum(parts.values()), "pids": parts}
        return result

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM to the supervisor (it stops nginx first, then the apps)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def start_stack(env_overrides: dict[str, str], ports: tuple[int, int, int], log_path: Path) -> Stack:
    """Start the supervisor; returns once both doors answer through nginx."""
    http_port, flask_port, fastapi_port = ports
    env = {key: value for key, value in os.environ.items() if key != "TEST_DATABASE_URL"}
    env.update(env_overrides)
    env.update(HTTP_PORT=str(http_port), FLASK_PORT=str(flask_port), FASTAPI_PORT=str(fastapi_port),
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "src.cli", "serve"], cwd=ROOT, env=env,
                                   stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    stack = Stack(process, http_port, flask_port, fastapi_port, log_path)
    try:
        _wait_for_doors(stack)
    except BaseException:
        stack.stop()
        raise
    return stack


def _wait_for_doors(stack: Stack, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    pending = {"/api/health", "/api/v2/health"}
    while pending:
        if stack.process.poll() is not None:
            raise RuntimeError(f"serve exited: {stack.log_path.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"doors did not answer {sorted(pending)}: {stack.log_path.read_text()[-3000:]}")
        for path in list(pending):
            try:
                if httpx.get(stack.base_url + path, timeout=2).status_code == 200:
                    pending.discard(path)
            except httpx.TransportError:
                pass
        time.sleep(0.2)

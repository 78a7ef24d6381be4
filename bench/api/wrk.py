"""Run wrk (Debian's 4.x) with a Lua script and parse its `--latency` report."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

LUA_DIR = Path(__file__).resolve().parent / "lua"
_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_DURATION = r"([\d.]+)(us|ms|s|m|h)"


class WrkFailed(RuntimeError):
    """wrk exited non-zero or printed no figures; the message carries its output."""


@dataclass(frozen=True)
class WrkOptions:
    threads: int = 2
    connections: int = 50
    seconds: float = 15
    timeout: str = "60s"


@dataclass
class WrkResult:
    """One wrk run: throughput, latency percentiles (ms), and what went wrong."""

    requests: int
    seconds: float
    requests_per_second: float
    p50_ms: float
    p75_ms: float
    p90_ms: float
    p99_ms: float
    non_2xx: int = 0  # wrk's "Non-2xx or 3xx responses"
    socket_errors: dict[str, int] = field(default_factory=dict)
    output: str = ""

    @property
    def errors(self) -> int:
        return sum(self.socket_errors.values())

    @property
    def ok_per_second(self) -> float:
        """Throughput of answers that succeeded: errors do not count as served requests."""
        if not self.requests:
            return 0.0
        good = max(0, self.requests - self.non_2xx - self.errors)
        return self.requests_per_second * good / self.requests

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "ok_per_second": self.ok_per_second}


def _ms(value: str, unit: str) -> float:
    return float(value) * _UNITS_MS[unit]


def parse(output: str) -> WrkResult:
    """The figures of one `wrk --latency` report."""
    total = re.search(r"(\d+) requests in " + _DURATION, output)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if not total or not rate:
        raise WrkFailed(f"wrk printed no figures:\n{output}")
    percentiles = {int(p): _ms(v, u) for p, v, u in re.findall(r"^\s+(50|75|90|99)%\s+" + _DURATION, output, re.M)}
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    socket_errors = {}
    if sockets:
        socket_errors = dict(zip(("connect", "read", "write", "timeout"), map(int, sockets.groups()), strict=False))
    nan = float("nan")
    if int(total.group(1)) == 0:
        # No answer at all: wrk prints zero latencies, which would read as fast.
        percentiles = {}
    return WrkResult(
        requests=int(total.group(1)),
        seconds=_ms(total.group(2), total.group(3)) / 1000,
        requests_per_second=float(rate.group(1)),
        p50_ms=percentiles.get(50, nan), p75_ms=percentiles.get(75, nan),
        p90_ms=percentiles.get(90, nan), p99_ms=percentiles.get(99, nan),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=socket_errors,
        output=output,
    )


def run(url: str, script: str, env: dict[str, str], options: WrkOptions) -> WrkResult:
    """One wrk run against `url` (scheme, host and port; the script sets the path)."""
    command = ["wrk", f"-t{options.threads}", f"-c{options.connections}", f"-d{options.seconds:g}s",
               "--timeout", options.timeout, "--latency", "-s", str(LUA_DIR / f"{script}.lua"), url]
    done = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=options.seconds + 120)
    if done.returncode != 0:
        raise WrkFailed(f"{' '.join(command)} exited {done.returncode}:\n{done.stdout}{done.stderr}")
    return parse(done.stdout + done.stderr)

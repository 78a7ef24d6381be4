"""Shadow reads: client p99 of /api reads with nginx's mirror on and off, in one run, on one deployment.

    .venv/bin/python -m bench.api.shadow [--quick] [--keep]

The deployment of bench.api (seeded SQLite, nginx, gunicorn, uvicorn) with the comparer on; the
mirror is switched by re-rendering the side-by-side config (SHADOW_READS on/off) and reloading
nginx. Each round measures every read case off then on (on then off in even rounds), so drift
on a shared machine falls on both. Each line also gives the CPU time per request of Flask,
FastAPI (the comparer's host) and nginx, steadier than p99 when other work shares the machine,
and what the comparer did with the reads it was sent. Ends with one GOAL line per case:
p99 on / p99 off <= 1.10.
"""

from __future__ import annotations

import argparse
import logging
import re
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.api import wrk
from bench.api.endpoints import bench_data, endpoints
from bench.api.stack import Stack, running
from bench.goals import Goal, print_goals
from bench.seed import BENCH_ADMIN_PASSWORD, BENCH_ADMIN_USERNAME, bench_settings, seed
from src.config import Settings
from src.deploy.nginx import NginxInstance, find_nginx, render

LEGACY_PREFIX = "/api"
# The bound: mirroring may cost a client at most 10% of its p99.
P99_RATIO_TARGET = 1.10
CASES = ("auth/me", "job detail", "notifications", "unread count", "jobs list")
# The deployment's processes whose CPU time per request is reported (flask: gunicorn and its workers).
CPU_LABELS = ("flask", "fastapi", "nginx")
SHADOW_LINE = re.compile(r'^shadow_reads_total\{outcome="(\w+)",route="[^"]*"\} ([0-9.e+]+)$', re.MULTILINE)


@dataclass(frozen=True)
class Timing:
    rounds: int
    warmup_seconds: float
    measured_seconds: float


FULL = Timing(rounds=3, warmup_seconds=2, measured_seconds=10)
QUICK = Timing(rounds=1, warmup_seconds=1, measured_seconds=3)


def set_mirror(stack: Stack, on: bool) -> None:
    """Render the side-by-side config with the mirror on or off and reload the running nginx."""
    binary = find_nginx()
    assert binary is not None
    settings = Settings(_env_file=None, HTTP_PORT=stack.ports["http"], FLASK_PORT=stack.ports["flask"],  # type: ignore[call-arg]  # pydantic-settings' _env_file is no declared field
                        FASTAPI_PORT=stack.ports["fastapi"], SHADOW_READS=on)
    nginx = NginxInstance(binary, stack.folder / "nginx")
    nginx.install(render("side-by-side", settings, http_host="127.0.0.1"))
    nginx.reload()
    time.sleep(1.0)  # the old workers finish; the warm-up run follows anyway


def outcomes(stack: Stack) -> dict[str, float]:
    """The comparer's shadow_reads_total summed over routes, by outcome."""
    text = stack.client.get(f"http://127.0.0.1:{stack.ports['fastapi']}/metrics", timeout=10).text
    totals: dict[str, float] = {}
    for outcome, value in SHADOW_LINE.findall(text):
        totals[outcome] = totals.get(outcome, 0.0) + float(value)
    return totals


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 round, 1 s warm-up, 3 s measured per mode")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, SQLite file)")
    args = parser.parse_args(argv)
    timing = QUICK if args.quick else FULL
    if shutil.which("wrk") is None:
        print("error: the benchmark needs wrk (apt-get install wrk)", file=sys.stderr)
        return 2
    logging.disable(logging.INFO)
    folder = Path(tempfile.mkdtemp(prefix="bench-shadow-"))
    database_url = f"sqlite:///{folder / 'bench.db'}"
    print(seed(database_url).describe(), flush=True)
    p99: dict[tuple[str, bool], list[float]] = {}
    cpu: dict[tuple[str, bool], list[dict[str, float]]] = {}
    with running(Stack(folder, database_url, extra_env={"SHADOW_READS": "on"}), keep=args.keep) as stack:
        token = stack.client.post(f"{stack.url}{LEGACY_PREFIX}/auth/login", timeout=30, json={
            "username": BENCH_ADMIN_USERNAME, "password": BENCH_ADMIN_PASSWORD}).json()["access_token"]
        admin = {"username": BENCH_ADMIN_USERNAME, "password": BENCH_ADMIN_PASSWORD}
        cases = [case for case in endpoints(bench_data(bench_settings(database_url)), admin, stack.receiver_url)
                 if case.name in CASES]
        health = f"{stack.url}{LEGACY_PREFIX}/health"
        stack.calibrate([health])
        for round_number in range(1, timing.rounds + 1):
            order = (False, True) if round_number % 2 else (True, False)
            for case in cases:
                for on in order:
                    set_mirror(stack, on)
                    env = case.wrk_env(LEGACY_PREFIX, token, f"shadow{round_number}")
                    wrk.run(stack.url, case.script, env, wrk.WrkOptions(connections=case.connections,
                                                                         seconds=timing.warmup_seconds))
                    stack.wait_until_drained(health)
                    before, cpu_before = outcomes(stack), stack.cpu()
                    result = wrk.run(stack.url, case.script, env,
                                     wrk.WrkOptions(connections=case.connections, seconds=timing.measured_seconds))
                    stack.wait_until_drained(health)
                    after, cpu_after = outcomes(stack), stack.cpu()
                    # CPU per answered request by process: what the mirror costs, less noisy than p99
                    # on a shared machine (the drain's probes are counted too, alike in both modes).
                    cpu_ms = {label: 1000 * (cpu_after[label] - cpu_before[label]) / max(1, result.requests)
                              for label in CPU_LABELS}
                    counted = {
                        k: int(after.get(k, 0) - before.get(k, 0)) for k in after if after.get(k, 0) > before.get(k, 0)
                    }
                    p99.setdefault((case.name, on), []).append(result.p99_ms)
                    cpu.setdefault((case.name, on), []).append(cpu_ms)
                    print(f"  {case.name:<14} mirror {'on ' if on else 'off'} round {round_number}: "
                          f"{result.requests_per_second:8.1f} req/s  p50 {result.p50_ms:7.2f} ms  "
                          f"p99 {result.p99_ms:7.2f} ms  non-2xx {result.non_2xx}  CPU ms/request "
                          + " ".join(f"{label} {cpu_ms[label]:.2f}" for label in CPU_LABELS)
                          + f"  comparer {counted or '-'}", flush=True)

    print(f"\nmedian p99 over {timing.rounds} round(s), {timing.measured_seconds:g} s each, /api reads (Flask), "
          "mirror off vs on")
    goals = []
    for case in cases:
        p99_off, p99_on = statistics.median(p99[(case.name, False)]), statistics.median(p99[(case.name, True)])
        cpu_off, cpu_on = (statistics.median(sum(run.values()) for run in cpu[(case.name, mode)])
                           for mode in (False, True))
        print(f"  {case.name:<14} p99 off {p99_off:8.2f} ms   on {p99_on:8.2f} ms   on/off {p99_on / p99_off:5.2f}   "
              f"CPU ms/request off {cpu_off:.2f} on {cpu_on:.2f} ({cpu_on / cpu_off - 1:+.1%})")
        goals.append(Goal(f"shadow reads p99 on/off {case.name}", p99_on / p99_off, P99_RATIO_TARGET,
                          higher_is_better=False))
    print()
    print_goals(goals)
    return 0


if __name__ == "__main__":
    sys.exit(main())

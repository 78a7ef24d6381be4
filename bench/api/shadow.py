"""Shadow reads: client p99 of /api reads with nginx's mirror on and off, in one run, on one deployment.

    .venv/bin/python -m bench.api.shadow [--quick] [--keep] [--load 0.5]

The deployment of bench.api (seeded SQLite, nginx, gunicorn, uvicorn) with the comparer on; the
mirror is switched by re-rendering the side-by-side config (SHADOW_READS on/off) and reloading
nginx. Per read case:

1. saturation (wrk, closed loop): the mirror-off throughput, which sets the open-loop rate, and
   (full runs) the same with the mirror on: throughput and CPU per request at saturation;
2. open loop (bench/api/openloop.py): requests at a fixed rate, `--load` of the off throughput,
   latency from each request's intended send time; several rounds, each case measured off and on
   back to back, the order alternating (off-on, on-off, ...) so drift on a shared machine falls on
   both modes alike. The p99 of each mode is the median of its rounds' p99.

Ends with one GOAL line per case: median p99 on / median p99 off <= 1.10. See docs/PERFORMANCE.md
("Shadow reads") for why the goal is judged below saturation.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.api import openloop, wrk
from bench.api.endpoints import Endpoint, bench_data, endpoints
from bench.api.stack import Stack, running
from bench.goals import Goal, print_goals
from bench.seed import BENCH_ADMIN_PASSWORD, BENCH_ADMIN_USERNAME, bench_settings, seed
from src.config import Settings
from src.deploy.nginx import NginxInstance, find_nginx, render

LEGACY_PREFIX = "/api"
# The bound: mirroring may cost a client at most 10% of its p99.
P99_RATIO_TARGET = 1.10
# Open-loop rate as a share of the mirror-off saturation throughput: loaded, with room for bursts.
DEFAULT_LOAD = 0.5
CASES = ("auth/me", "job detail", "notifications", "unread count", "jobs list")
# The deployment's processes whose CPU time per request is reported (flask: gunicorn and its workers).
CPU_LABELS = ("flask", "fastapi", "nginx")
SHADOW_LINE = re.compile(r'^shadow_reads_total\{outcome="(\w+)",route="[^"]*"\} ([0-9.e+]+)$', re.MULTILINE)


@dataclass(frozen=True)
class Timing:
    rounds: int  # open-loop rounds; even, so each case is measured off-first and on-first equally
    warmup_seconds: float
    measured_seconds: float
    saturation_seconds: float
    saturation_on: bool  # also saturate with the mirror on (the secondary throughput/CPU figure)


FULL = Timing(rounds=6, warmup_seconds=1, measured_seconds=6, saturation_seconds=4, saturation_on=True)
QUICK = Timing(rounds=2, warmup_seconds=1, measured_seconds=3, saturation_seconds=2, saturation_on=False)


@dataclass
class Sample:
    """One measurement of one case in one mode."""

    p99_ms: float
    p50_ms: float
    cpu_ms: dict[str, float]  # CPU per request by process
    requests_per_second: float = 0.0
    failed: int = 0
    compared: dict[str, int] = field(default_factory=dict)
    # Open loop: p99 of how late requests went out (the generator or the machine behind), and the
    # generator's CPU per request; both alike in the two modes unless the machine's load moved.
    send_lag_p99_ms: float = float("nan")
    generator_cpu_ms: float = float("nan")


def pair_order(pair_index: int) -> tuple[bool, bool]:
    """Mirror modes (on?) of the pair-th off/on measurement: off-on, on-off, off-on, ... (one reload a pair)."""
    return (False, True) if pair_index % 2 == 0 else (True, False)


def median_ratio(on: list[float], off: list[float]) -> float:
    """The goal's figure: median of the on rounds over median of the off rounds."""
    return statistics.median(on) / statistics.median(off)


class Mirror:
    """The running nginx's side-by-side config, re-rendered with the mirror on or off when it changes."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.on: bool | None = None

    def set(self, on: bool) -> None:
        if on == self.on:
            return
        binary = find_nginx()
        assert binary is not None
        ports = self.stack.ports
        settings = Settings(_env_file=None, HTTP_PORT=ports["http"], FLASK_PORT=ports["flask"],  # type: ignore[call-arg]  # pydantic-settings' _env_file is no declared field
                            FASTAPI_PORT=ports["fastapi"], SHADOW_READS=on)
        nginx = NginxInstance(binary, self.stack.folder / "nginx")
        nginx.install(render("side-by-side", settings, http_host="127.0.0.1"))
        nginx.reload()
        time.sleep(1.0)  # the old workers finish; each measurement warms up anyway
        self.on = on


def outcomes(stack: Stack) -> dict[str, float]:
    """The comparer's shadow_reads_total summed over routes, by outcome."""
    text = stack.client.get(f"http://127.0.0.1:{stack.ports['fastapi']}/metrics", timeout=10).text
    totals: dict[str, float] = {}
    for outcome, value in SHADOW_LINE.findall(text):
        totals[outcome] = totals.get(outcome, 0.0) + float(value)
    return totals


class Meter:
    """CPU time of the deployment's processes and the comparer's counts around one measurement."""

    def __init__(self, stack: Stack, health: str) -> None:
        self.stack, self.health = stack, health

    def __enter__(self) -> Meter:
        self.stack.wait_until_drained(self.health)
        self.outcomes, self.cpu = outcomes(self.stack), self.stack.cpu()
        return self

    def __exit__(self, *_exc: object) -> None:
        # Drained first: the requests' work ends after the client stops waiting (wrk's queued ones).
        self.stack.wait_until_drained(self.health)
        after, cpu = outcomes(self.stack), self.stack.cpu()
        self.cpu_seconds = {label: cpu[label] - self.cpu[label] for label in CPU_LABELS}
        self.compared = {k: int(after[k] - self.outcomes.get(k, 0)) for k in after
                         if after[k] > self.outcomes.get(k, 0)}

    def per_request_ms(self, requests: int) -> dict[str, float]:
        # The drain's probes are counted too, alike in both modes.
        return {label: 1000 * seconds / max(1, requests) for label, seconds in self.cpu_seconds.items()}


def saturate(stack: Stack, case: Endpoint, token: str, timing: Timing, meter: Meter, unique: str) -> Sample:
    """wrk -c<case's connections> for the saturation window (after a warm-up): throughput, p99, CPU."""
    env = case.wrk_env(LEGACY_PREFIX, token, unique)
    wrk.run(stack.url, case.script, env, wrk.WrkOptions(connections=case.connections, seconds=timing.warmup_seconds))
    with meter:
        result = wrk.run(stack.url, case.script, env,
                         wrk.WrkOptions(connections=case.connections, seconds=timing.saturation_seconds))
    return Sample(result.p99_ms, result.p50_ms, meter.per_request_ms(result.requests),
                  requests_per_second=result.requests_per_second, failed=result.non_2xx + result.errors,
                  compared=meter.compared)


def open_loop(stack: Stack, case: Endpoint, token: str, rate: float, timing: Timing, meter: Meter) -> Sample:
    """The case's paths at `rate` per second: latency from the intended send time, CPU per request."""
    options = openloop.OpenLoopOptions(rate=rate, seconds=timing.measured_seconds,
                                       warmup_seconds=timing.warmup_seconds, max_connections=case.connections)
    paths = [LEGACY_PREFIX + path for path in case.paths]
    with meter:
        result = openloop.run(stack.url, paths, {"Authorization": f"Bearer {token}"}, options)
    answered = len(result.latencies_ms)
    requests = len(openloop.schedule(rate, timing.warmup_seconds + timing.measured_seconds))  # warm-up included
    return Sample(result.p99_ms, result.p50_ms, meter.per_request_ms(requests),
                  requests_per_second=answered / timing.measured_seconds, failed=result.failed,
                  compared=meter.compared, send_lag_p99_ms=result.send_lag_p99_ms,
                  generator_cpu_ms=1000 * result.cpu_seconds / max(1, requests))


def load_average() -> str:
    return "/".join(f"{value:.1f}" for value in os.getloadavg())


def describe(case: Endpoint, on: bool, label: str, sample: Sample) -> str:
    cpu = " ".join(f"{label} {sample.cpu_ms[label]:.2f}" for label in CPU_LABELS)
    generator = ("" if sample.send_lag_p99_ms != sample.send_lag_p99_ms
                 else f" generator {sample.generator_cpu_ms:.2f} (sent late p99 {sample.send_lag_p99_ms:.1f} ms)")
    return (f"  {case.name:<14} mirror {'on ' if on else 'off'} {label:<10} {sample.requests_per_second:8.1f} req/s  "
            f"p50 {sample.p50_ms:7.2f} ms  p99 {sample.p99_ms:7.2f} ms  failed {sample.failed}  "
            f"CPU ms/request {cpu}{generator}  comparer {sample.compared or '-'}  load {load_average()}")


def spread(values: list[float]) -> str:
    return f"{min(values):.1f}-{max(values):.1f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK.rounds} open-loop rounds of {QUICK.measured_seconds:g} s, off-only saturation")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, SQLite file)")
    parser.add_argument("--load", type=float, default=DEFAULT_LOAD,
                        help=f"open-loop rate as a share of the mirror-off throughput (default {DEFAULT_LOAD})")
    args = parser.parse_args(argv)
    timing = QUICK if args.quick else FULL
    if shutil.which("wrk") is None:
        print("error: the benchmark needs wrk (apt-get install wrk)", file=sys.stderr)
        return 2
    logging.disable(logging.INFO)
    started = time.monotonic()
    folder = Path(tempfile.mkdtemp(prefix="bench-shadow-"))
    database_url = f"sqlite:///{folder / 'bench.db'}"
    print(seed(database_url).describe(), flush=True)
    print(f"load average at start {load_average()} (1/5/15 min), {os.cpu_count()} cores", flush=True)
    saturated: dict[tuple[str, bool], Sample] = {}
    rounds: dict[tuple[str, bool], list[Sample]] = {}
    rates: dict[str, float] = {}
    with running(Stack(folder, database_url, extra_env={"SHADOW_READS": "on"}), keep=args.keep) as stack:
        token = stack.client.post(f"{stack.url}{LEGACY_PREFIX}/auth/login", timeout=30, json={
            "username": BENCH_ADMIN_USERNAME, "password": BENCH_ADMIN_PASSWORD}).json()["access_token"]
        admin = {"username": BENCH_ADMIN_USERNAME, "password": BENCH_ADMIN_PASSWORD}
        cases = [case for case in endpoints(bench_data(bench_settings(database_url)), admin, stack.receiver_url)
                 if case.name in CASES]
        health = f"{stack.url}{LEGACY_PREFIX}/health"
        stack.calibrate([health])
        mirror, meter = Mirror(stack), Meter(stack, health)

        print(f"\nsaturation: wrk, {timing.saturation_seconds:g} s per mode (sets the open-loop rate)", flush=True)
        for index, case in enumerate(cases):
            for on in pair_order(index) if timing.saturation_on else (False,):
                mirror.set(on)
                saturated[(case.name, on)] = sample = saturate(stack, case, token, timing, meter, f"sat{index}")
                print(describe(case, on, "saturated", sample), flush=True)
            rates[case.name] = args.load * saturated[(case.name, False)].requests_per_second

        print(f"\nopen loop: {args.load:.0%} of the off throughput, {timing.rounds} rounds of "
              f"{timing.warmup_seconds:g} s warm-up + {timing.measured_seconds:g} s measured per mode", flush=True)
        for round_number in range(timing.rounds):
            for index, case in enumerate(cases):
                for on in pair_order(round_number * len(cases) + index):
                    mirror.set(on)
                    sample = open_loop(stack, case, token, rates[case.name], timing, meter)
                    rounds.setdefault((case.name, on), []).append(sample)
                    print(describe(case, on, f"round {round_number + 1}", sample), flush=True)

    print(f"\n/api reads (Flask), mirror off vs on; open loop at {args.load:.0%} of the off throughput: "
          f"median of {timing.rounds} rounds' p99 (min-max), load average at end {load_average()}")
    goals = []
    for case in cases:
        p99 = {on: [sample.p99_ms for sample in rounds[(case.name, on)]] for on in (False, True)}
        cpu = {on: statistics.median(sum(sample.cpu_ms.values()) for sample in rounds[(case.name, on)])
               for on in (False, True)}
        paired = statistics.median(on / off for on, off in zip(p99[True], p99[False], strict=True))
        ratio = median_ratio(p99[True], p99[False])
        print(f"  {case.name:<14} {rates[case.name]:7.1f} req/s  p99 off {statistics.median(p99[False]):7.2f} ms "
              f"({spread(p99[False])})  on {statistics.median(p99[True]):7.2f} ms ({spread(p99[True])})  "
              f"on/off {ratio:5.2f} (per round {paired:5.2f})  CPU ms/request off {cpu[False]:.2f} on {cpu[True]:.2f} "
              f"({cpu[True] / cpu[False] - 1:+.1%})")
        goals.append(Goal(f"shadow {case.name} p99 on/off", ratio, P99_RATIO_TARGET, unit="x",
                          higher_is_better=False))
    if timing.saturation_on:
        print("\nsaturation (secondary; p99 there is queueing): throughput and CPU ms/request, mirror off vs on")
        for case in cases:
            off, on = saturated[(case.name, False)], saturated[(case.name, True)]
            cpu_off, cpu_on = sum(off.cpu_ms.values()), sum(on.cpu_ms.values())
            print(f"  {case.name:<14} {off.requests_per_second:7.1f} / {on.requests_per_second:7.1f} req/s "
                  f"({on.requests_per_second / off.requests_per_second - 1:+.1%})  CPU {cpu_off:.2f} / {cpu_on:.2f} "
                  f"({cpu_on / cpu_off - 1:+.1%})  p99 {off.p99_ms:.1f} / {on.p99_ms:.1f} ms")
    print(f"\n{time.monotonic() - started:.0f} s")
    print_goals(goals)
    return 0


if __name__ == "__main__":
    sys.exit(main())

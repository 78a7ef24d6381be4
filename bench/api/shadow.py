"""Shadow reads: client p99 of /api reads with nginx's mirror on and off, in one run, on one deployment.

    .venv/bin/python -m bench.api.shadow [--quick] [--keep] [--load 0.5]

The deployment of bench.api (seeded SQLite, gunicorn, uvicorn with the comparer on) behind two
more nginx instances rendered from the side-by-side config, one with the mirror off and one with
it on (SHADOW_READS), so the mode changes by changing the port, without a reload. Per read case:

1. saturation (wrk, closed loop) through the off nginx: the throughput that sets the open-loop
   rate; full runs also saturate the on nginx (throughput and CPU per request at saturation);
2. open loop (bench/api/openloop.py), the goal's figure: requests at a fixed rate, `--load` of
   the off throughput, latency from each request's intended send time; one schedule alternates
   between the two nginx every second (off first in one round, on first in the next), so drift
   on a shared machine falls on both modes; the first 0.1 s after each switch is not counted
   (the comparer's replays left from an on slot). Each mode's p99 is the median of its rounds' p99;
3. cost: the same rate through one nginx at a time, for CPU per request by process.

Ends with one GOAL line per case: median p99 on / median p99 off <= 1.10. docs/PERFORMANCE.md
("Shadow reads") says why the goal is judged below saturation.
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

LEGACY_PREFIX = "/api"
# The bound: mirroring may cost a client at most 10% of its p99.
P99_RATIO_TARGET = 1.10
# Open-loop rate as a share of the mirror-off saturation throughput: loaded, with room for bursts.
DEFAULT_LOAD = 0.5
# A round whose requests left this late (p99) had more offered than the machine served then: both
# modes measured a growing queue. Counted in the summary, not dropped (the goal takes medians).
OVERLOADED_SEND_LAG_MS = 100.0
CASES = ("auth/me", "job detail", "notifications", "unread count", "jobs list")
# The nginx instances in front of the doors, by mirror mode; the stack's own nginx stays idle.
NGINX_LABELS = {False: "nginx-mirror-off", True: "nginx-mirror-on"}
# The deployment's processes whose CPU time per request is reported (flask: gunicorn and its
# workers; nginx: all three instances).
CPU_LABELS = ("flask", "fastapi", "nginx")
SHADOW_LINE = re.compile(r'^shadow_reads_total\{outcome="(\w+)",route="[^"]*"\} ([0-9.e+]+)$', re.MULTILINE)


@dataclass(frozen=True)
class Timing:
    rounds: int  # open-loop rounds; even, so each case starts off-first and on-first equally often
    warmup_seconds: float
    measured_seconds: float  # per round, both modes together
    slot_seconds: float  # the modes alternate at this period inside a round
    guard_seconds: float  # not counted after each switch: the comparer's replays left from an on slot
    saturation_seconds: float
    saturation_on: bool  # also saturate with the mirror on (the secondary throughput/CPU figure)
    cost_seconds: float  # open loop through one mode at a time, for CPU per request


FULL = Timing(rounds=6, warmup_seconds=1, measured_seconds=8, slot_seconds=1, guard_seconds=0.1, saturation_seconds=4,
              saturation_on=True, cost_seconds=4)
QUICK = Timing(rounds=2, warmup_seconds=1, measured_seconds=4, slot_seconds=1, guard_seconds=0.1, saturation_seconds=2,
               saturation_on=False, cost_seconds=2)


@dataclass
class Sample:
    """One measurement of one case in one mode."""

    p99_ms: float
    p50_ms: float
    requests_per_second: float = 0.0
    failed: int = 0
    cpu_ms: dict[str, float] = field(default_factory=dict)  # CPU per request by process, where measured alone
    compared: dict[str, int] = field(default_factory=dict)  # the comparer's outcomes over the window
    # Open loop: p99 of how late requests went out (no free connection, the generator or machine
    # behind); large only when the offered rate outran the deployment.
    send_lag_p99_ms: float = float("nan")


def pair_order(pair_index: int) -> tuple[bool, bool]:
    """Mirror modes (on?) of the pair-th off/on measurement, in order: off-on, on-off, off-on, ..."""
    return (False, True) if pair_index % 2 == 0 else (True, False)


def median_ratio(on: list[float], off: list[float]) -> float:
    """The goal's figure: median of the on rounds over median of the off rounds."""
    return statistics.median(on) / statistics.median(off)


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

    def cpu(self) -> dict[str, float]:
        by_server = self.stack.cpu()
        return {label: sum(seconds for server, seconds in by_server.items() if server.startswith(label))
                for label in CPU_LABELS}

    def __enter__(self) -> Meter:
        self.stack.wait_until_drained(self.health)
        self.outcomes, self.cpu_before = outcomes(self.stack), self.cpu()
        return self

    def __exit__(self, *_exc: object) -> None:
        # Drained first: the requests' work ends after the client stops waiting (wrk's queued ones).
        self.stack.wait_until_drained(self.health)
        after, cpu = outcomes(self.stack), self.cpu()
        self.cpu_seconds = {label: cpu[label] - self.cpu_before[label] for label in CPU_LABELS}
        self.compared = {k: int(after[k] - self.outcomes.get(k, 0)) for k in after
                         if after[k] > self.outcomes.get(k, 0)}

    def per_request_ms(self, requests: int) -> dict[str, float]:
        # The drain's probes are counted too, alike in both modes.
        return {label: 1000 * seconds / max(1, requests) for label, seconds in self.cpu_seconds.items()}


def saturate(url: str, case: Endpoint, token: str, timing: Timing, meter: Meter, unique: str) -> Sample:
    """wrk -c<case's connections> for the saturation window (after a warm-up): throughput, p99, CPU."""
    env = case.wrk_env(LEGACY_PREFIX, token, unique)
    wrk.run(url, case.script, env, wrk.WrkOptions(connections=case.connections, seconds=timing.warmup_seconds))
    with meter:
        result = wrk.run(url, case.script, env,
                         wrk.WrkOptions(connections=case.connections, seconds=timing.saturation_seconds))
    return Sample(result.p99_ms, result.p50_ms, result.requests_per_second, result.non_2xx + result.errors,
                  meter.per_request_ms(result.requests), meter.compared)


def open_loop(urls: list[str], case: Endpoint, token: str, rate: float, seconds: float, timing: Timing,
              meter: Meter) -> list[Sample]:
    """The case's paths at `rate` per second, alternating between `urls` slot by slot; a sample per URL."""
    options = openloop.OpenLoopOptions(rate=rate, seconds=seconds, warmup_seconds=timing.warmup_seconds,
                                       max_connections=case.connections, slot_seconds=timing.slot_seconds,
                                       guard_seconds=timing.guard_seconds)
    paths = [LEGACY_PREFIX + path for path in case.paths]
    with meter:
        results = openloop.run(urls, paths, {"Authorization": f"Bearer {token}"}, options)
    requests = len(openloop.schedule(rate, timing.warmup_seconds + seconds))  # warm-up included
    # CPU per request only means one mode's cost when the window had one mode.
    cpu_ms = meter.per_request_ms(requests) if len(urls) == 1 else {}
    share = seconds / len(urls) * (1 - timing.guard_seconds / timing.slot_seconds if len(urls) > 1 else 1)
    return [Sample(result.p99_ms, result.p50_ms, len(result.latencies_ms) / share, result.failed, cpu_ms,
                   meter.compared, result.send_lag_p99_ms) for result in results]


def load_average() -> str:
    return "/".join(f"{value:.1f}" for value in os.getloadavg())


def describe(case: Endpoint, on: bool, label: str, sample: Sample) -> str:
    cpu = " ".join(f"{label} {sample.cpu_ms[label]:.2f}" for label in CPU_LABELS) if sample.cpu_ms else ""
    lag = sample.send_lag_p99_ms
    late = "" if lag != lag else f"  sent late p99 {lag:6.1f} ms"
    return (f"  {case.name:<14} mirror {'on ' if on else 'off'} {label:<10} {sample.requests_per_second:7.1f} req/s  "
            f"p50 {sample.p50_ms:7.2f} ms  p99 {sample.p99_ms:7.2f} ms  failed {sample.failed}{late}"
            + (f"  CPU ms/request {cpu}" if cpu else "")
            + (f"  comparer {sample.compared or '-'}" if on else "") + f"  load {load_average()}")


def spread(values: list[float]) -> str:
    return f"{min(values):.1f}-{max(values):.1f}"


def total_cpu(sample: Sample) -> float:
    return sum(sample.cpu_ms.values())


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
    cost: dict[tuple[str, bool], Sample] = {}
    rates: dict[str, float] = {}
    with running(Stack(folder, database_url, extra_env={"SHADOW_READS": "on"}), keep=args.keep) as stack:
        urls = {on: stack.start_nginx(label, SHADOW_READS=on) for on, label in NGINX_LABELS.items()}
        token = stack.client.post(f"{urls[False]}{LEGACY_PREFIX}/auth/login", timeout=30, json={
            "username": BENCH_ADMIN_USERNAME, "password": BENCH_ADMIN_PASSWORD}).json()["access_token"]
        admin = {"username": BENCH_ADMIN_USERNAME, "password": BENCH_ADMIN_PASSWORD}
        cases = [case for case in endpoints(bench_data(bench_settings(database_url)), admin, stack.receiver_url)
                 if case.name in CASES]
        health = f"{urls[False]}{LEGACY_PREFIX}/health"
        stack.calibrate([health])
        meter = Meter(stack, health)

        print(f"\nsaturation: wrk, {timing.saturation_seconds:g} s per mode (sets the open-loop rate)", flush=True)
        for index, case in enumerate(cases):
            for on in pair_order(index) if timing.saturation_on else (False,):
                saturated[(case.name, on)] = sample = saturate(urls[on], case, token, timing, meter, f"sat{index}")
                print(describe(case, on, "saturated", sample), flush=True)
            rates[case.name] = args.load * saturated[(case.name, False)].requests_per_second

        print(f"\nopen loop: {args.load:.0%} of the off throughput; {timing.rounds} rounds of "
              f"{timing.warmup_seconds:g} s warm-up + {timing.measured_seconds:g} s, the modes alternating "
              f"every {timing.slot_seconds:g} s (the first {timing.guard_seconds:g} s after a switch not counted)",
              flush=True)
        for round_number in range(timing.rounds):
            for index, case in enumerate(cases):
                order = pair_order(round_number * len(cases) + index)
                samples = open_loop([urls[on] for on in order], case, token, rates[case.name],
                                    timing.measured_seconds, timing, meter)
                for on, sample in zip(order, samples, strict=True):
                    rounds.setdefault((case.name, on), []).append(sample)
                    print(describe(case, on, f"round {round_number + 1}", sample), flush=True)

        print(f"\ncost: the same rate through one nginx at a time, {timing.cost_seconds:g} s each", flush=True)
        for index, case in enumerate(cases):
            for on in pair_order(index):
                [cost[(case.name, on)]] = open_loop([urls[on]], case, token, rates[case.name],
                                                    timing.cost_seconds, timing, meter)
                print(describe(case, on, "alone", cost[(case.name, on)]), flush=True)

    print(f"\n/api reads (Flask), mirror off vs on; open loop at {args.load:.0%} of the off throughput: "
          f"median of {timing.rounds} rounds' p99 (min-max); CPU ms/request from the one-mode windows")
    goals = []
    for case in cases:
        p99 = {on: [sample.p99_ms for sample in rounds[(case.name, on)]] for on in (False, True)}
        paired = statistics.median(on / off for on, off in zip(p99[True], p99[False], strict=True))
        ratio = median_ratio(p99[True], p99[False])
        cpu_off, cpu_on = total_cpu(cost[(case.name, False)]), total_cpu(cost[(case.name, True)])
        overloaded = sum(max(off.send_lag_p99_ms, on.send_lag_p99_ms) > OVERLOADED_SEND_LAG_MS
                         for off, on in zip(rounds[(case.name, False)], rounds[(case.name, True)], strict=True))
        print(f"  {case.name:<14} {rates[case.name]:6.1f} req/s  p99 off {statistics.median(p99[False]):7.2f} ms "
              f"({spread(p99[False])})  on {statistics.median(p99[True]):7.2f} ms ({spread(p99[True])})  "
              f"on/off {ratio:5.2f} (per round {paired:5.2f})  CPU off {cpu_off:.2f} on {cpu_on:.2f} "
              f"({cpu_on / cpu_off - 1:+.0%})  overloaded rounds {overloaded}/{timing.rounds}")
        goals.append(Goal(f"shadow {case.name} p99 on/off", ratio, P99_RATIO_TARGET, unit="x",
                          higher_is_better=False))
    if timing.saturation_on:
        print("\nsaturation (secondary; its p99 is queueing): throughput and CPU ms/request, mirror off / on")
        for case in cases:
            off, on = saturated[(case.name, False)], saturated[(case.name, True)]
            print(f"  {case.name:<14} {off.requests_per_second:7.1f} / {on.requests_per_second:7.1f} req/s "
                  f"({on.requests_per_second / off.requests_per_second - 1:+.0%})  CPU {total_cpu(off):.2f} / "
                  f"{total_cpu(on):.2f} ({total_cpu(on) / total_cpu(off) - 1:+.0%})  p99 {off.p99_ms:.1f} / "
                  f"{on.p99_ms:.1f} ms")
    print(f"\nload average at end {load_average()}; {time.monotonic() - started:.0f} s")
    print_goals(goals)
    return 0


if __name__ == "__main__":
    sys.exit(main())

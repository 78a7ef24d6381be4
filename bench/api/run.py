"""API benchmark: both doors behind nginx on one seeded database, wrk per endpoint, GOAL lines at the end.

    .venv/bin/python -m bench.api.run [--quick] [--database sqlite|postgres] [--json-out PATH]

Full: 3 rounds, each door 3 s warm-up + 15 s measured per endpoint (about 25 minutes).
--quick: 1 round, 1 s + 3 s (under 5 minutes). Medians over rounds are reported.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from bench.api import report, wrk
from bench.api.endpoints import DOORS, RECEIVER_CASES, TEST_RUN, Endpoint, bench_data, endpoints
from bench.api.stack import Stack, running
from bench.goals import print_goals
from bench.seed import BENCH_ADMIN_PASSWORD, BENCH_ADMIN_USERNAME, bench_settings, seed
from src.config import PROJECT_ROOT
from src.database.engines import create_sync_engine_from_settings

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_api"


@dataclass(frozen=True)
class Timing:
    rounds: int
    warmup_seconds: float
    measured_seconds: float
    # Longest wait for a door to finish what wrk left queued; a door stuck longer is reported.
    drain_seconds: float


FULL = Timing(rounds=3, warmup_seconds=3, measured_seconds=15, drain_seconds=60)
QUICK = Timing(rounds=1, warmup_seconds=1, measured_seconds=3, drain_seconds=15)


class Bench:
    """One benchmark session over a running stack: preflight, the runs, and what went wrong."""

    def __init__(self, stack: Stack, timing: Timing, tokens: dict[str, str]) -> None:
        self.stack = stack
        self.timing = timing
        self.tokens = tokens
        self.runs: list[report.Run] = []
        self.problems: list[str] = []
        self._unique = 0

    def preflight(self, cases: list[Endpoint]) -> None:
        """One request per case and door before any load, so a broken case shows its answer."""
        for case in cases:
            for door, prefix in DOORS.items():
                headers = {"Authorization": f"Bearer {self.tokens[door]}"} if case.auth else {}
                body = case.bodies[0].replace("__N__", f"preflight-{door}") if case.bodies else None
                if body is not None:
                    headers["Content-Type"] = "application/json"
                # As wrk will ask (a read: a browser's Accept-Encoding); httpx decodes what comes back.
                headers["Accept-Encoding"] = case.accept_encoding or "identity"
                response = self.stack.client.request(
                    case.method, self.stack.url + prefix + case.paths[0], headers=headers, content=body, timeout=30)
                problem = None if response.is_success else f"status {response.status_code}: {response.text[:300]}"
                if problem is None and case.read:
                    problem = _json_problem(response)
                if problem is None and case.check is not None:
                    problem = case.check(response)
                if problem:
                    self.problem(f"preflight {case.name} {door}: {problem}")

    def problem(self, text: str) -> None:
        self.problems.append(text)
        print(f"  WARNING {text}", flush=True)

    def measure(self, case: str, door: str, round_number: int, url: str, script: str, env: dict[str, str],
                connections: int = 50, health: str | None = None) -> None:
        """A discarded warm-up run, then the measured one with each server's CPU around it."""
        health = health or f"{url}{DOORS.get(door, '/api/v2')}/health"
        options = wrk.WrkOptions(connections=connections, seconds=self.timing.warmup_seconds)
        wrk.run(url, script, self._fresh(env), options)
        self._drain(health, f"{case} {door} warm-up")
        options = wrk.WrkOptions(connections=connections, seconds=self.timing.measured_seconds)
        cpu_before = self.stack.cpu()
        hits_before = self.stack.receiver_count()
        cache_before = self.stack.read_cache_counts()
        result = wrk.run(url, script, self._fresh(env), options)
        hits = self.stack.receiver_count() - hits_before
        cache = {outcome: count - cache_before.get(outcome, 0.0)
                 for outcome, count in self.stack.read_cache_counts().items()}
        cpu = {label: round(seconds - cpu_before.get(label, 0.0), 3) for label, seconds in self.stack.cpu().items()}
        drain = self._drain(health, f"{case} {door} round {round_number}")
        receiver_hits = hits if case in RECEIVER_CASES else None
        self.runs.append(report.Run(case, door, round_number, result, cpu, receiver_hits, drain))
        self._show(self.runs[-1])
        answered = sum(cache.values())
        if answered:
            # How much of the v2 figure is the read cache (src/fastapi_app/read_cache.py): with one
            # token and one path per case nearly every read is a hit, the best case for the cache.
            print(f"    read cache: {cache.get('hit', 0):.0f} hits, {cache.get('miss', 0):.0f} kept, "
                  f"{cache.get('bypass', 0):.0f} not kept of {answered:.0f} reads", flush=True)

    def _show(self, run: report.Run) -> None:
        """One line per measured run, and a warning for anything that did not succeed."""
        result, where = run.result, f"{run.case} {run.door} round {run.round}"
        hits = f"  receiver hits {run.receiver_hits}" if run.receiver_hits is not None else ""
        print(f"  {run.case:<20} {run.door:<7} round {run.round}: {result.requests_per_second:9.1f} req/s  "
              f"p50 {result.p50_ms:8.2f} ms  p99 {result.p99_ms:8.2f} ms  non-2xx {result.non_2xx}  "
              f"socket errors {result.errors}{hits}", flush=True)
        if result.non_2xx or result.errors:
            self.problem(f"{where}: {result.non_2xx} non-2xx answers, {result.errors} socket errors "
                         f"of {result.requests} requests")
        if run.receiver_hits is not None and run.receiver_hits < 0.9 * result.requests:
            self.problem(
                f"{where}: the receiver got {run.receiver_hits} calls for {result.requests} answered test-runs"
            )

    def _drain(self, health_url: str, after: str) -> float:
        """Seconds the door needed to finish the requests wrk left behind."""
        started = time.monotonic()
        if not self.stack.wait_until_drained(health_url, self.timing.drain_seconds):
            self.problem(f"{health_url} still slow {self.timing.drain_seconds:g} s after {after}: "
                         "the next run starts with a backlog")
        return round(time.monotonic() - started, 2)

    def _fresh(self, env: dict[str, str]) -> dict[str, str]:
        # Names created by a run (job create) stay unique across warm-ups, rounds and doors.
        self._unique += 1
        return {key: value.replace("__RUN__", f"r{self._unique}") for key, value in env.items()}

    def ceiling(self, round_number: int) -> None:
        self.measure("ceiling", "ceiling", round_number, self.stack.hello_url, "static",
                     {"BENCH_METHOD": "GET", "BENCH_PATH": "/api/v2/hello", "BENCH_TOKEN": "", "BENCH_BODY": ""})

    def receiver_ceiling(self, case: Endpoint, round_number: int) -> None:
        """test-run's body straight to the receiver, no door: what its delay allows at this concurrency."""
        self.measure("receiver ceiling", "receiver", round_number, self.stack.receiver_url, "static",
                     {"BENCH_METHOD": "POST", "BENCH_PATH": "/hook", "BENCH_TOKEN": "",
                      "BENCH_BODY": case.bodies[0]},
                     case.connections, health=f"{self.stack.receiver_url}/count")

    def case(self, case: Endpoint, round_number: int) -> None:
        for door, prefix in DOORS.items():
            token = self.tokens[door] if case.auth else None
            self.measure(case.name, door, round_number, self.stack.url, case.script,
                         case.wrk_env(prefix, token, "__RUN__"), case.connections)


def _json_problem(response: httpx.Response) -> str | None:
    """A read's answer must decode (httpx undoes its Content-Encoding) to JSON: wrk never looks."""
    try:
        json.loads(response.content)
    except ValueError as exc:
        return f"{response.headers.get('content-encoding', 'plain')} answer is no JSON after decoding: {exc}"
    return None


def login(client: httpx.Client, base: str) -> str:
    response = client.post(f"{base}/auth/login", timeout=30,
                          json={"username": BENCH_ADMIN_USERNAME, "password": BENCH_ADMIN_PASSWORD})
    response.raise_for_status()
    return str(response.json()["access_token"])


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "-"


def environment_facts(database_url: str) -> dict[str, Any]:
    """Machine, versions and database server, for docs/PERFORMANCE.md."""
    def first_line(command: list[str]) -> str:
        done = subprocess.run(command, capture_output=True, text=True)
        return (done.stdout + done.stderr).strip().splitlines()[0] if (done.stdout + done.stderr).strip() else "-"

    cpu_model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("model name")), platform.processor())
    engine = create_sync_engine_from_settings(bench_settings(database_url))
    try:
        with engine.connect() as connection:
            server = ("SQLite " + sqlite3.sqlite_version if engine.dialect.name == "sqlite"
                      else str(connection.execute(text("SELECT version()")).scalar()))
    finally:
        engine.dispose()
    packages = ["fastapi", "starlette", "pydantic", "flask", "uvicorn", "uvloop", "httptools", "gunicorn",
                "sqlalchemy", "psycopg", "aiosqlite", "httpx"]
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": len([line for line in Path("/proc/cpuinfo").read_text().splitlines()
                                 if line.startswith("processor")]),
                    "cpu": cpu_model, "kernel": platform.release()},
        "versions": {"python": platform.python_version(), **{name: _version(name) for name in packages},
                     "nginx": first_line(["nginx", "-v"]), "wrk": first_line(["wrk", "-v"])},
        "database": server,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 round, 1 s warm-up, 3 s measured")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL,
                        help="database to recreate and seed for --database postgres")
    parser.add_argument("--json-out", type=Path, help="raw results (default bench/results/api-<database>.json)")
    parser.add_argument("--only", help="comma-separated endpoint names (for a look at one case)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, SQLite file)")
    parser.add_argument("--no-read-cache", action="store_true",
                        help="READ_CACHE_MB=0: the FastAPI door works out every read (its cost without the cache)")
    args = parser.parse_args(argv)
    timing = QUICK if args.quick else FULL
    json_out = (
        args.json_out
        or PROJECT_ROOT / "bench" / "results" / f"api-{args.database}{'-quick' if args.quick else ''}.json"
    )
    if shutil.which("wrk") is None:
        print("error: the API benchmark needs wrk (apt-get install wrk)", file=sys.stderr)
        return 2
    logging.disable(logging.INFO)

    folder = Path(tempfile.mkdtemp(prefix="bench-api-"))
    database_url = f"sqlite:///{folder / 'bench.db'}" if args.database == "sqlite" else args.postgres_url
    started = time.monotonic()
    seeded = seed(database_url)
    print(seeded.describe(), flush=True)
    extra_env = {"READ_CACHE_MB": "0"} if args.no_read_cache else {}
    with running(Stack(folder, database_url, extra_env=extra_env), keep=args.keep) as stack:
        print(f"stack up in {folder}: nginx {stack.url} (Flask /api, FastAPI /api/v2), ceiling {stack.hello_url}, "
              f"receiver {stack.receiver_url}", flush=True)
        # One request to each door (a login) before the idle memory reading.
        tokens = {door: login(stack.client, stack.url + prefix) for door, prefix in DOORS.items()}
        idle = stack.memory()
        admin = {"username": BENCH_ADMIN_USERNAME, "password": BENCH_ADMIN_PASSWORD}
        cases = endpoints(bench_data(bench_settings(database_url)), admin, stack.receiver_url)
        if args.only:
            wanted = {name.strip() for name in args.only.split(",")}
            cases = [case for case in cases if case.name in wanted]
        stack.calibrate([f"{stack.url}{prefix}/health" for prefix in DOORS.values()]
                        + [f"{stack.hello_url}/api/v2/health"])
        bench = Bench(stack, timing, tokens)
        bench.preflight(cases)
        print("ceiling (hello-world uvicorn behind the same nginx config)", flush=True)
        for round_number in range(1, timing.rounds + 1):
            bench.ceiling(round_number)
        for case in cases:
            print(case.name, flush=True)
            for round_number in range(1, timing.rounds + 1):
                if case.name == TEST_RUN:
                    bench.receiver_ceiling(case, round_number)
                bench.case(case, round_number)
        after = stack.memory()
        for error, count in stack.logged_errors().items():
            bench.problem(f"logged {count} time(s): {error}")

    goals = report.goals(cases, bench.runs, idle, after)
    print(f"\nmedians over {timing.rounds} round(s); {timing.measured_seconds:g} s measured after "
          f"{timing.warmup_seconds:g} s warm-up; wrk -t2 -c50 (test-run -c100); database {args.database}")
    print(report.table(cases, bench.runs))
    for line in report.receiver_shares(bench.runs):
        print(line)
    print()
    print(report.memory_table(idle, after))
    facts = environment_facts(database_url)
    json_out.parent.mkdir(parents=True, exist_ok=True)
    json_out.write_text(json.dumps({
        **facts, "database_kind": args.database, "timing": timing.__dict__,
        "seed": seeded.counts, "memory_mb": {"idle": idle, "after": after},
        "summaries": report.summaries_json(cases, bench.runs),
        "runs": [run.to_json() for run in bench.runs],
        "problems": bench.problems,
        "goals": [{**goal.__dict__, "met": goal.met, "line": goal.line()} for goal in goals],
        "seconds": round(time.monotonic() - started, 1),
    }, indent=2, default=str))
    print(f"\nraw results: {json_out} ({time.monotonic() - started:.0f} s in all)")
    for problem in bench.problems:
        print(f"WARNING {problem}")
    print()
    print_goals(goals)
    return 0


if __name__ == "__main__":
    sys.exit(main())

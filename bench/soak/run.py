"""Soak: mixed API traffic on both doors through the real nginx while the scheduler fires 500 jobs a minute.

    .venv/bin/python -m bench.soak.run [--minutes 10] [--database-url URL]

Starts the real deployment (`python -m src.cli serve`: nginx, gunicorn, uvicorn) on free loopback
ports over a fresh database (a SQLite file, or the PostgreSQL database named in the URL, dropped
and created again: its name must start with `bench_`), seeds users and 500 webhook jobs with the
cron `* * * * *` aimed at a loopback receiver, warms up until one full round of fires arrived,
then runs the soak window. Prints requests per door and status class, fires expected / arrived /
recorded, resident memory per app at start and end, and GOAL lines; raw figures go to
bench/results/soak.json. Exits 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import re
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.goals import Goal, print_goals  # noqa: E402  # after the sys.path line above
from bench.soak.fires import count_fires, covered_minutes, finished_rows, minute_of, scheduled_rows  # noqa: E402  # after the sys.path line above
from bench.soak.receiver import SoakReceiver  # noqa: E402  # after the sys.path line above
from bench.soak.report import print_report  # noqa: E402  # after the sys.path line above
from bench.soak.stack import Stack, start_stack  # noqa: E402  # after the sys.path line above
from bench.soak.traffic import DOORS, Client, Recorder  # noqa: E402  # after the sys.path line above
from src.core.phases import read_phase, scheduler_kind  # noqa: E402  # after the sys.path line above
from src.database.engines import create_sync_engine_from_settings, make_session_factory  # noqa: E402  # after the sys.path line above
from src.database.migrate import upgrade_to_head  # noqa: E402  # after the sys.path line above
from src.models import Job  # noqa: E402  # after the sys.path line above
from src.models.base import new_id  # noqa: E402  # after the sys.path line above
from tests.conftest import PASSWORD, Factory, make_settings  # noqa: E402  # after the sys.path line above
from tests.door_servers import free_port  # noqa: E402  # after the sys.path line above
from tests.pg_databases import PostgresServer  # noqa: E402  # after the sys.path line above

RESULTS = ROOT / "bench" / "results"
SECRET_KEY = "soak-secret-key-of-at-least-32-bytes!"
JWT_SECRET_KEY = "soak-jwt-secret-key-of-at-least-32-bytes"
RSS_GROWTH_TARGET_PERCENT = 10.0
# The settle wait ends when no covered run finished for this long.
SETTLE_IDLE_SECONDS = 30


# --- database ----------------------------------------------------------------------------------


def fresh_database(database_url: str | None, folder: Path) -> str:
    """A migrated, empty database: a SQLite file in `folder`, or the named PostgreSQL one recreated."""
    if not database_url:
        url = f"sqlite:///{folder / 'soak.db'}"
    else:
        parsed = make_url(database_url)
        if parsed.get_backend_name() == "postgresql":
            name = parsed.database or ""
            if not name.startswith("bench_"):
                raise SystemExit(f"refusing to drop and recreate {name!r}: name a database starting with 'bench_'")
            server = PostgresServer(database_url)
            server.drop(name)
            url = server.create(name)
        else:
            url = database_url
    upgrade_to_head(make_settings(url))
    return url


def drop_database(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        PostgresServer(url).drop(parsed.database or "")


def seed(url: str, receiver_url: str, fired_jobs: int) -> tuple[dict[str, str], list[str], str]:
    """Users per client role, the team, and the fired jobs; returns (usernames by role, job ids, scheduler host)."""
    settings = make_settings(url)
    engine = create_sync_engine_from_settings(settings)
    try:
        with make_session_factory(engine)() as session:
            factory = Factory(session, settings)
            factory.team("Team A", slug="team-a")
            users = {role: factory.user(role.split("-")[0], username=f"soak-{role}").username
                     for role in ("admin", "user-flask", "user-fastapi", "viewer")}
            ids = [new_id() for _ in range(fired_jobs)]
            # The receiver attributes an arrival to the job id at the end of the path.
            session.add_all(Job(id=job_id, name=f"soak-fired-{n:04d}", cron_expression="* * * * *",
                                target_url=f"{receiver_url}/fire/{job_id}", category="general",
                                end_date=date.today() + timedelta(days=30), pic_team="team-a", is_active=True)
                            for n, job_id in enumerate(ids))
            session.commit()
            host = scheduler_kind(read_phase(session), "flask")
            return users, ids, host
    finally:
        engine.dispose()


def db_query(url: str, query: Any) -> Any:
    engine = create_sync_engine_from_settings(make_settings(url))
    try:
        with make_session_factory(engine)() as session:
            return query(session)
    finally:
        engine.dispose()


# --- the run -----------------------------------------------------------------------------------


def stack_env(url: str, folder: Path, scheduler_host: str) -> dict[str, str]:
    return {
        "DATABASE_URL": url, "FLASK_ENV": "development", "SECRET_KEY": SECRET_KEY, "JWT_SECRET_KEY": JWT_SECRET_KEY,
        "SCHEDULER_HOST": scheduler_host, "ALLOW_PRIVATE_TARGETS": "true", "MAIL_ENABLED": "false",
        "EXPOSE_ERROR_DETAILS": "true", "NGINX_PREFIX": str(folder / "nginx"),
        "GITHUB_API_BASE_URL": "http://127.0.0.1:9", "DEFAULT_GITHUB_OWNER": "soak-org",
    }


def make_clients(stack: Stack, users: dict[str, str], job_ids: list[str], receiver: SoakReceiver,
                 recorder: Recorder, per_door: int, pause: float, seed_value: int,
                 doors: list[str]) -> list[Client]:
    clients = []
    for door in (d for d in DOORS if d.name in doors):
        roles = [("admin", "admin"), ("user", f"user-{door.name}"), ("viewer", "viewer")]
        for index in range(per_door):
            role, user_key = roles[index % len(roles)]
            http = httpx.AsyncClient(base_url=stack.base_url, timeout=30,
                                     limits=httpx.Limits(max_connections=2, max_keepalive_connections=2))
            clients.append(Client(http, door, f"{door.name}{index}", users[user_key], PASSWORD, role, job_ids,
                                  receiver.base_url, recorder, random.Random(seed_value * 100 + len(clients)),
                                  pause))
    return clients


async def soak(args: argparse.Namespace, stack: Stack, url: str, users: dict[str, str], job_ids: list[str],
               receiver: SoakReceiver) -> dict[str, Any]:
    recorder = Recorder()
    clients = make_clients(stack, users, job_ids, receiver, recorder, args.clients_per_door, args.pause, args.seed,
                           args.doors.split(","))
    stop = asyncio.Event()
    traffic_started = time.time()
    tasks = [asyncio.create_task(client.run(stop)) for client in clients]
    fired = set(job_ids)

    # Warm-up: traffic on both doors until one whole round of fires arrived (or its minute passed).
    first_round = minute_of(traffic_started) + 60
    warm_deadline = time.time() + args.warmup_timeout
    while True:
        await asyncio.sleep(1)
        round_arrived = len(set(receiver.count_since("/fire/", first_round)) & fired)
        now = time.time()
        if now - traffic_started >= args.warmup_seconds and now >= first_round and (
                round_arrived >= len(fired) or now >= first_round + 55):
            break
        if now > warm_deadline:
            stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise SystemExit(f"warm-up: only {round_arrived}/{len(fired)} fires of the first round arrived; "
                             f"see {stack.log_path}")
    warmup = recorder.start_period()
    started = time.time()
    rss_start = stack.rss_kib()
    print(f"warm-up done in {started - traffic_started:.0f} s (first round: {round_arrived}/{len(fired)} fires); "
          f"soak window {args.minutes:g} min", flush=True)

    end = started + args.minutes * 60
    while (now := time.time()) < end:
        await asyncio.sleep(min(60.0, end - now))
        tally = recorder.tally
        last_minute = minute_of(time.time())
        print(f"  +{time.time() - started:5.0f} s  requests " +
              ", ".join(f"{door.name} {tally.requests(door.name)}" for door in DOORS) +
              f"  5xx {tally.count_5xx()}  transport errors {sum(tally.transport_errors.values())}  "
              f"fires of the current minute so far {len(set(receiver.count_since('/fire/', last_minute)) & fired)}",
              flush=True)
    stop.set()
    await asyncio.gather(*tasks)
    stopped = time.time()
    rss_end = stack.rss_kib()
    for client in clients:
        await client.http.aclose()

    # Settle: the covered minutes' runs finish. A scheduler behind its schedule still dispatches
    # them late; wait while it makes progress (bounded), so "lost" means never dispatched.
    minutes = covered_minutes(started, end)
    expected = len(job_ids) * len(minutes)
    settle_started = time.time()
    finished, progress_at = -1, time.time()
    while time.time() - settle_started < args.settle_timeout:
        now_finished = await asyncio.to_thread(db_query, url, lambda s: finished_rows(s, job_ids, minutes))
        if now_finished != finished:
            finished, progress_at = now_finished, time.time()
        if finished >= expected or time.time() - progress_at > SETTLE_IDLE_SECONDS:
            break
        await asyncio.sleep(2)
    settled = time.time()
    rows = await asyncio.to_thread(db_query, url, lambda s: scheduled_rows(s, job_ids))
    fires = count_fires(receiver.snapshot(), fired, minutes, rows)
    stray = sum(1 for a in receiver.snapshot() if a.path.startswith("/stray/"))
    return {
        "window": {"started": started, "ended": end, "traffic_stopped": stopped, "minutes": args.minutes,
                   "settle_seconds": round(settled - stopped, 1),
                   "covered_minutes": len(minutes), "warmup_seconds": round(started - traffic_started, 1)},
        "traffic": recorder.tally.as_json(), "warmup_traffic": warmup.as_json(),
        "fires": fires.as_json() | {"stray_arrivals": stray},
        "rss_kib": {"start": rss_start, "end": rss_end},
    }


def log_findings(log_path: Path) -> dict[str, int]:
    """Counts of warning signs in the deployment's log (the soak prints them; details are in the file)."""
    text = log_path.read_text(errors="replace")
    patterns = {
        "tracebacks": r"Traceback \(most recent call last\)",
        "error_lines": r'"level": "ERROR"| ERROR ',
        "missed_fires": r"skipped: later than the misfire grace time",
        "fires_refused_not_leader": r"lease not held: fire of",
        "lease_late_or_lost": r"scheduler lease renewal was late|scheduler lease lost",
        "leader_starts": r"scheduler lease acquired by",
        "gunicorn_worker_boots": r"Booting worker with pid",
    }
    found = {name: len(re.findall(pattern, text)) for name, pattern in patterns.items()}
    found["interrupted_runs_closed"] = sum(
        int(n) for n in re.findall(r"closed (\d+) run\(s\) left running by a process that stopped", text))
    return found


def growth_percent(rss: dict[str, Any], kind: str) -> float:
    start = rss["start"][kind]["total_kib"]
    end = rss["end"][kind]["total_kib"]
    return (end - start) * 100.0 / start if start else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10, help="soak window after the warm-up")
    parser.add_argument("--database-url", default=None,
                        help="default: a fresh SQLite file; a PostgreSQL URL's database (bench_*) is recreated")
    parser.add_argument("--fired-jobs", type=int, default=500, help="jobs firing every minute")
    parser.add_argument("--clients-per-door", type=int, default=3)
    parser.add_argument("--doors", default="flask,fastapi", help="which doors get traffic (diagnosis)")
    parser.add_argument("--pause", type=float, default=0.0, help="seconds each client waits between requests")
    parser.add_argument("--warmup-seconds", type=float, default=20)
    parser.add_argument("--warmup-timeout", type=float, default=240)
    parser.add_argument("--settle-timeout", type=float, default=300,
                        help="longest wait after the window for the covered minutes' runs to finish")
    parser.add_argument("--seed", type=int, default=random.randrange(1 << 20))
    parser.add_argument("--output", type=Path, default=RESULTS / "soak.json")
    parser.add_argument("--keep-database", action="store_true", help="leave the PostgreSQL database in place")
    args = parser.parse_args()
    logging.disable(logging.INFO)

    RESULTS.mkdir(parents=True, exist_ok=True)
    log_path = RESULTS / "soak-serve.log"
    with tempfile.TemporaryDirectory(prefix="soak-") as temp:
        folder = Path(temp)
        url = fresh_database(args.database_url, folder)
        backend = make_url(url).get_backend_name()
        receiver = SoakReceiver().start()
        users, job_ids, scheduler_host = seed(url, receiver.base_url, args.fired_jobs)
        ports = (free_port(), free_port(), free_port())
        print(f"{backend}: {len(job_ids)} jobs at '* * * * *' -> {receiver.base_url}; scheduler host {scheduler_host}; "
              f"nginx :{ports[0]}, Flask :{ports[1]}, FastAPI :{ports[2]}; seed {args.seed}; log {log_path}",
              flush=True)
        stack = start_stack(stack_env(url, folder, scheduler_host), ports, log_path)
        try:
            pids = stack.app_pids()
            print("processes: " + ", ".join(f"{kind} {pids[kind]}" for kind in pids), flush=True)
            result = asyncio.run(soak(args, stack, url, users, job_ids, receiver))
        finally:
            serve_status = stack.stop()
            receiver.stop()
            if not args.keep_database:
                drop_database(url)
    result |= {"backend": backend, "scheduler_host": scheduler_host, "fired_jobs": len(job_ids),
               "clients_per_door": args.clients_per_door, "doors": args.doors, "pause": args.pause, "seed": args.seed,
               "serve_exit_status": serve_status, "log": str(log_path), "log_findings": log_findings(log_path)}
    for kind in ("flask", "fastapi", "nginx"):
        result["rss_kib"].setdefault("growth_percent", {})[kind] = round(growth_percent(result["rss_kib"], kind), 2)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2, default=str))

    print_report(result)
    traffic, fires = result["traffic"], result["fires"]
    server_errors = sum(traffic[door.name]["by_class"].get("5xx", 0) for door in DOORS if door.name in traffic)
    goals = [
        Goal("soak 5xx", server_errors, 0, higher_is_better=False),
        Goal("soak lost fires", fires["lost"], 0, higher_is_better=False),
        Goal("soak duplicate fires", fires["duplicates"], 0, higher_is_better=False),
        *(Goal(f"soak RSS growth {kind}", result["rss_kib"]["growth_percent"][kind], RSS_GROWTH_TARGET_PERCENT,
               unit="%", higher_is_better=False) for kind in ("flask", "fastapi")),
    ]
    print(f"raw figures: {args.output}")
    return 1 if print_goals(goals) else 0


if __name__ == "__main__":
    sys.exit(main())

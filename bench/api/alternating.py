"""Both doors of a running deployment, side by side through its one port, alternating (issue 17, must-show 2).

    .venv/bin/python -m bench.api.alternating --username admin --password '...' [--url http://127.0.0.1:8000]

Start the stack as a user does (`make run`), then run this: per round and endpoint, `wrk -t1
-c32` on `/api` and on `/api/v2` one after the other (the order swapped every round, so neither
door always runs on a warmer machine), for `/auth/me`, one job's detail and the executions page.
It creates the job it reads (and a team for it when there is none); it measures whatever data the
deployment holds. Prints req/s per door and round, the median ratio, and a GOAL line each.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import date, timedelta

import httpx

from bench.api import wrk
from bench.goals import Goal, print_goals

DOORS = ("/api", "/api/v2")
TARGET_RATIO = 2.0


def login(client: httpx.Client, url: str, username: str, password: str) -> str:
    response = client.post(f"{url}/api/v2/auth/login", json={"username": username, "password": password})
    if response.status_code != 200:
        raise SystemExit(f"login as {username!r} failed: {response.status_code} {response.text[:200]}")
    return str(response.json()["access_token"])


def a_job_to_read(client: httpx.Client, url: str, token: str) -> str:
    """A job of this run's own (the detail endpoint's subject), on an existing team or a new one."""
    headers = {"Authorization": f"Bearer {token}"}
    teams = client.get(f"{url}/api/v2/teams", headers=headers).json().get("pic_teams", [])
    if teams:
        team = teams[0]["slug"]
    else:
        created = client.post(f"{url}/api/v2/pic-teams", headers=headers,
                              json={"name": f"Bench team {int(time.time())}", "slack_handle": "@bench"})
        created.raise_for_status()
        team = created.json()["pic_team"]["slug"]
    job = client.post(f"{url}/api/v2/jobs", headers=headers, json={
        "name": f"alternating-bench-{int(time.time() * 1000)}", "cron_expression": "0 3 * * *",
        "target_url": "http://127.0.0.1:9/alternating-bench", "github_owner": "", "github_repo": "",
        "github_workflow_name": "", "category": "general", "pic_team": team,
        "end_date": (date.today() + timedelta(days=30)).isoformat(), "metadata": {"suite": "bench"},
    })
    if job.status_code != 201:
        raise SystemExit(f"could not create the job to read: {job.status_code} {job.text[:300]}")
    return str(job.json()["job"]["id"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--username", default=os.environ.get("BENCH_USERNAME", "admin"))
    parser.add_argument("--password", default=os.environ.get("BENCH_PASSWORD", ""))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args(argv)

    with httpx.Client(timeout=30) as client:
        token = login(client, args.url, args.username, args.password)
        job_id = a_job_to_read(client, args.url, token)
    paths = {"auth/me": "/auth/me", "job detail": f"/jobs/{job_id}", "executions page": "/executions?limit=50"}
    options = wrk.WrkOptions(threads=1, connections=args.connections, seconds=args.seconds)
    print(f"{args.url}: wrk -t1 -c{args.connections} -d{args.seconds:g}s, {args.rounds} rounds, doors alternating, "
          f"load average {os.getloadavg()[0]:.2f}", flush=True)
    rates: dict[tuple[str, str], list[float]] = {}
    for round_number in range(1, args.rounds + 1):
        doors = DOORS if round_number % 2 else tuple(reversed(DOORS))
        for name, path in paths.items():
            for door in doors:
                env = {"BENCH_METHOD": "GET", "BENCH_PATH": door + path, "BENCH_TOKEN": token, "BENCH_BODY": ""}
                result = wrk.run(args.url, "static", env, options)
                if result.non_2xx or result.socket_errors:
                    print(f"  WARNING {name} {door}: {result.non_2xx} non-2xx, socket errors {result.socket_errors}")
                rates.setdefault((name, door), []).append(result.requests_per_second)
                print(f"  round {round_number} {name:<16} {door:<8} {result.requests_per_second:9.1f} req/s  "
                      f"p99 {result.p99_ms:8.2f} ms", flush=True)

    goals = []
    print(f"\n{'endpoint':<16} {'/api req/s':>12} {'/api/v2 req/s':>14} {'v2/legacy':>10}  (medians)")
    for name in paths:
        legacy, v2 = (statistics.median(rates[(name, door)]) for door in DOORS)
        ratio = v2 / legacy if legacy else float("nan")
        print(f"{name:<16} {legacy:12.1f} {v2:14.1f} {ratio:9.2f}x")
        goals.append(Goal(f"side by side {name} v2/legacy", ratio, TARGET_RATIO, "x"))
    print(json.dumps({"rates": {f"{name} {door}": values for (name, door), values in rates.items()}}))
    print()
    print_goals(goals)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Classes 2 and 6: what one client does must not fail or stall the others.

2. A request that makes a door fail, immediately followed by other clients' requests (a GET and a
   POST) on the same prefix: those never get a 502/503/504.
6. 24 concurrent manual runs on the legacy door against a target that answers after 8 s:
   `/api/health` keeps answering within 100 ms (the max is printed), and every run is recorded as
   a manual success.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from bench.hostile.json_bodies import DEPTH
from bench.hostile.report import ClassReport, describe
from bench.hostile.stack import PREFIXES, SLOW_TARGET_SECONDS, HostileStack

ROUNDS = 25
# Bodies that made a door answer 500 in the probe (a test build has a raising route; the
# deployed stack has only what an attacker can send).
FAILING_BODIES = {
    "nested": ('{"username":' * DEPTH + "1" + "}" * DEPTH).encode(),
    "surrogate": b'{"username": "\\ud800", "password": "x"}',
}
RUNS = 24
HEALTH_LIMIT_MS = 100.0
HEALTH_PROBES = 15


def probe_errors_then_others(stack: HostileStack) -> ClassReport:
    report = ClassReport(2, "one client's error, then other clients' requests")
    provoked = 0
    with stack.new_client() as attacker, stack.new_client() as other:
        for door, prefix in PREFIXES.items():
            auth = stack.auth(door)
            for round_number in range(ROUNDS):
                label, body = list(FAILING_BODIES.items())[round_number % len(FAILING_BODIES)]
                failed = attacker.post(f"{prefix}/auth/login", content=body,
                                       headers={"Content-Type": "application/json"})
                provoked += failed.status_code >= 500
                follow_ups = (
                    ("GET health", lambda prefix=prefix: other.get(f"{prefix}/health")),
                    (
                        "POST validate-cron",
                        lambda prefix=prefix, auth=auth: other.post(
                            f"{prefix}/jobs/validate-cron", headers=auth, json={"expression": "0 2 * * *"}
                        ),
                    ),
                )
                for name, call in follow_ups:
                    response = call()
                    report.check(response.status_code == 200,
                                 f"{door} {name} after a {failed.status_code} ({label}): {describe(response)}")
    report.figures.append(f"requests that made a door answer 5xx first: {provoked}")
    return report


def _slow_job(stack: HostileStack, client: httpx.Client) -> str:
    auth = stack.auth("flask")
    client.post("/api/pic-teams", headers=auth, json={"name": "Hostile Slow", "slug": "hostile-slow",
                                                      "slack_handle": "@slow"})
    created = client.post("/api/jobs", headers=auth, json={
        "name": f"hostile-slow-{time.time_ns()}", "cron_expression": "0 2 1 1 *", "end_date": "2099-12-31",
        "target_url": stack.receiver_url + "/slow", "pic_team": "hostile-slow"})
    created.raise_for_status()
    return str(created.json()["job"]["id"])


def probe_slow_runs(stack: HostileStack) -> ClassReport:
    report = ClassReport(6, "health latency under 24 slow manual runs (legacy door)")
    auth = stack.auth("flask")
    with stack.new_client() as client:
        job_id = _slow_job(stack, client)

    def execute(_: int) -> httpx.Response:
        with stack.new_client() as runner:
            return runner.post(f"/api/jobs/{job_id}/execute", headers=auth, timeout=SLOW_TARGET_SECONDS * 10)

    latencies: list[float] = []
    with ThreadPoolExecutor(max_workers=RUNS) as pool:
        runs = [pool.submit(execute, n) for n in range(RUNS)]
        time.sleep(1.0)  # let every run reach the target, which holds each for 8 s
        with stack.new_client() as prober:
            for _ in range(HEALTH_PROBES):
                started = time.monotonic()
                health = prober.get("/api/health")
                latencies.append((time.monotonic() - started) * 1000 if health.status_code == 200 else float("inf"))
                time.sleep(0.2)
        held = sum(not run.done() for run in runs)
        answers = [run.result() for run in runs]
    worst = max(latencies)
    report.figures.append(f"health max {worst:.1f} ms over {len(latencies)} probes; "
                          f"runs still in flight after the probes: {held} of {RUNS}")
    report.check(worst <= HEALTH_LIMIT_MS, f"/api/health took up to {worst:.1f} ms (limit {HEALTH_LIMIT_MS:.0f})")
    for answer in answers:
        report.check(answer.status_code == 200, f"execute: {describe(answer)}")
    with stack.new_client() as client:
        executions = client.get(f"/api/jobs/{job_id}/executions", headers=auth, params={"per_page": 100}).json()
    recorded = {(e["status"], e["trigger_type"]) for e in executions.get("executions", [])}
    report.check(len(executions.get("executions", [])) == RUNS and recorded == {("success", "manual")},
                 f"runs recorded: {len(executions.get('executions', []))} as {sorted(recorded)}")
    return report

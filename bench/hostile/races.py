"""Class 5: concurrent deletes and marks of one row, through each door and across both.

8 identical requests released together: a job or user delete answers one 200 and 404s and
broadcasts one "Job Deleted"; a notification delete one 200; category soft deletes all 200;
read-all / delete-read counts add up to the rows changed; mark-read keeps one read_at.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from bench.hostile.accounts import register
from bench.hostile.report import ClassReport
from bench.hostile.stack import PREFIXES, HostileStack

CALLERS = 8
MIXES = {"flask": ["flask"] * CALLERS, "fastapi": ["fastapi"] * CALLERS,
         "both": ["flask", "fastapi"] * (CALLERS // 2)}


def all_at_once(stack: HostileStack, doors: list[str], method: str, path: str,
                headers: dict[str, str]) -> list[httpx.Response]:
    barrier = threading.Barrier(len(doors))

    def one(door: str) -> httpx.Response:
        with stack.new_client() as client:
            barrier.wait(30)
            return client.request(method, PREFIXES[door] + path, headers=headers)

    with ThreadPoolExecutor(max_workers=len(doors)) as pool:
        return list(pool.map(one, doors))


def _statuses(responses: list[httpx.Response]) -> dict[int, int]:
    return dict(Counter(r.status_code for r in responses))


def _create_job(stack: HostileStack, client: httpx.Client, name: str) -> str:
    client.post("/api/v2/pic-teams", headers=stack.auth(), json={"name": "Hostile Race", "slug": "hostile-race",
                                                               "slack_handle": "@race"})
    created = client.post("/api/v2/jobs", headers=stack.auth(), json={
        "name": name, "cron_expression": "0 2 1 1 *", "end_date": "2099-12-31",
        "target_url": "http://127.0.0.1:9/hook", "pic_team": "hostile-race"})
    created.raise_for_status()
    return str(created.json()["job"]["id"])


def _notifications(stack: HostileStack, client: httpx.Client, headers: dict[str, str]) -> list[dict[str, Any]]:
    return list(client.get("/api/v2/notifications", headers=headers, params={"per_page": 100}).json()["notifications"])


def probe(stack: HostileStack) -> ClassReport:
    report = ClassReport(5, "concurrent deletes / marks of one row")
    admin = stack.auth()
    reader = register(stack, "race-reader")
    reader_auth = {"Authorization": f"Bearer {stack.login('/api/v2', reader['username'], reader['password'])}"}
    with stack.new_client() as client:
        for mix, doors in MIXES.items():
            name = f"race-job-{mix}-{time.time_ns()}"
            job_id = _create_job(stack, client, name)
            got = _statuses(all_at_once(stack, doors, "DELETE", f"/jobs/{job_id}", admin))
            report.check(got == {200: 1, 404: CALLERS - 1}, f"{mix}: job delete answered {got}")
            broadcasts = [n for n in _notifications(stack, client, admin)
                          if n["title"] == "Job Deleted" and f'"{name}"' in n["message"]]
            report.check(len(broadcasts) == 1, f"{mix}: {len(broadcasts)} Job Deleted notifications for one delete")

            victim = register(stack, f"race-victim-{mix}")
            got = _statuses(all_at_once(stack, doors, "DELETE", f"/auth/users/{victim['id']}", admin))
            report.check(got == {200: 1, 404: CALLERS - 1}, f"{mix}: user delete answered {got}")

            notification_id = _notifications(stack, client, admin)[0]["id"]
            got = _statuses(all_at_once(stack, doors, "DELETE", f"/notifications/{notification_id}", admin))
            report.check(got == {200: 1, 404: CALLERS - 1}, f"{mix}: notification delete answered {got}")

            category = client.post(
                "/api/v2/job-categories", headers=admin, json={"name": f"race-cat-{mix}-{time.time_ns()}"}
            )
            category.raise_for_status()
            got = _statuses(
                all_at_once(stack, doors, "DELETE", f"/job-categories/{category.json()['category']['id']}", admin)
            )
            report.check(got == {200: CALLERS}, f"{mix}: category soft delete answered {got}")

            # The reader's unread notifications: the job deletes above broadcast to every user.
            unread = client.get("/api/v2/notifications/unread-count", headers=reader_auth).json()["unread_count"]
            marked = _notifications(stack, client, reader_auth)
            if marked:
                responses = all_at_once(stack, doors, "PUT", f"/notifications/{marked[0]['id']}/read", reader_auth)
                stamps = {r.json().get("notification", {}).get("read_at") for r in responses if r.status_code == 200}
                report.check(
                    _statuses(responses) == {200: CALLERS} and len(stamps) == 1,
                    f"{mix}: mark-read answered {_statuses(responses)} with read_at values {sorted(map(str, stamps))}",
                )
                unread -= 1 if not marked[0]["is_read"] else 0
            responses = all_at_once(stack, doors, "PUT", "/notifications/read-all", reader_auth)
            counted = sum(r.json().get("updated_count", 0) for r in responses if r.status_code == 200)
            report.check(_statuses(responses) == {200: CALLERS} and counted == unread,
                         f"{mix}: read-all answered {_statuses(responses)} counting {counted} of {unread} unread")
            total_read = len(_notifications(stack, client, reader_auth))
            responses = all_at_once(stack, doors, "DELETE", "/notifications/delete-read", reader_auth)
            counted = sum(r.json().get("deleted_count", 0) for r in responses if r.status_code == 200)
            report.check(_statuses(responses) == {200: CALLERS} and counted == total_read,
                         f"{mix}: delete-read answered {_statuses(responses)} counting {counted} of {total_read}")
    return report

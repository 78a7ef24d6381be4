"""Mixed API traffic for the soak: async clients looping over weighted reads and writes on one door.

Each client logs in as its own role on its door (`/api` → Flask, `/api/v2` → FastAPI, both
through nginx) and only ever updates or deletes jobs it created itself; those jobs' cron never
fires during a soak, so the writes leave the scheduled jobs' schedules alone. Every response is
counted by status per door; 5xx and unexpected statuses keep a sample with their request id.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx

# Never fires in a soak (1 January, 00:00 scheduler time), so created jobs add no scheduled fires.
CREATED_JOB_CRON = "0 0 1 1 *"
SAMPLE_LIMIT = 20
# A client keeps at most this many of its own jobs; above it, deletes are preferred.
OWN_JOBS_CAP = 15

READ_WEIGHTS = {
    "jobs_list": 3, "job_detail": 12, "job_executions": 8, "executions": 8, "statistics": 6,
    "notifications": 10, "unread_count": 12, "me": 10,
}
WRITE_WEIGHTS = {"create_job": 5, "update_job": 5, "delete_job": 4, "login": 2, "mark_read": 4, "read_all": 1}
# Viewers may not write jobs; they still log in and manage their own notifications.
VIEWER_WRITES = ("login", "mark_read", "read_all")


@dataclass(frozen=True)
class Door:
    name: str  # "flask" or "fastapi": the X-Served-By a response of this door carries
    prefix: str  # "/api" or "/api/v2"


DOORS = (Door("flask", "/api"), Door("fastapi", "/api/v2"))


@dataclass
class Tally:
    """Responses of one period (warm-up or soak)."""

    by_status: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    by_operation: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    transport_errors: Counter[str] = field(default_factory=Counter)
    wrong_door: Counter[str] = field(default_factory=Counter)
    latencies_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    server_errors: list[dict[str, Any]] = field(default_factory=list)
    unexpected: list[dict[str, Any]] = field(default_factory=list)

    def requests(self, door: str) -> int:
        return sum(self.by_status[door].values()) + self.transport_errors[door]

    def by_class(self, door: str) -> dict[str, int]:
        classes: Counter[str] = Counter()
        for status, count in self.by_status[door].items():
            classes[f"{status // 100}xx"] += count
        if self.transport_errors[door]:
            classes["transport error"] = self.transport_errors[door]
        return dict(sorted(classes.items()))

    def count_5xx(self) -> int:
        return sum(count for statuses in self.by_status.values() for status, count in statuses.items()
                   if status >= 500)

    def as_json(self) -> dict[str, Any]:
        def percentile(values: list[float], share: float) -> float | None:
            if not values:
                return None
            ordered = sorted(values)
            return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 1)

        doors = sorted(set(self.by_status) | set(self.transport_errors))
        return {
            door: {
                "requests": self.requests(door),
                "by_class": self.by_class(door),
                "by_status": {str(k): v for k, v in sorted(self.by_status[door].items())},
                "by_operation": dict(sorted(self.by_operation[door].items())),
                "transport_errors": self.transport_errors[door],
                "wrong_door": self.wrong_door[door],
                "latency_ms": {"p50": percentile(self.latencies_ms[door], 0.5),
                               "p95": percentile(self.latencies_ms[door], 0.95),
                               "p99": percentile(self.latencies_ms[door], 0.99)},
            }
            for door in doors
        } | {"server_errors": self.server_errors, "unexpected": self.unexpected}


class Recorder:
    """Where clients count: `tally` is swapped for a fresh one when the soak window opens."""

    def __init__(self) -> None:
        self.tally = Tally()

    def start_period(self) -> Tally:
        finished, self.tally = self.tally, Tally()
        return finished


@dataclass
class Client:
    """One looping API client on one door, as one user."""

    http: httpx.AsyncClient
    door: Door
    label: str
    username: str
    password: str
    role: str
    fired_job_ids: list[str]
    receiver_url: str
    recorder: Recorder
    rng: random.Random
    pause: float = 0.0
    token: str = ""
    own_jobs: list[str] = field(default_factory=list)
    _sequence: int = 0

    # --- plumbing ---------------------------------------------------------------------------

    async def call(self, operation: str, method: str, path: str, expected: int = 200,
                   **kwargs: Any) -> httpx.Response | None:
        """One request; counts it and returns the response (None after a transport error)."""
        self._sequence += 1
        request_id = f"soak-{self.label}-{self._sequence}"
        headers = {"X-Request-ID": request_id}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        tally = self.recorder.tally
        door = self.door.name
        started = time.perf_counter()
        try:
            response = await self.http.request(method, self.door.prefix + path, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            tally.transport_errors[door] += 1
            if len(tally.server_errors) < SAMPLE_LIMIT:
                tally.server_errors.append({"door": door, "operation": operation, "method": method, "path": path,
                                            "status": None, "request_id": request_id,
                                            "error": f"{type(exc).__name__}: {exc}"})
            return None
        tally.latencies_ms[door].append((time.perf_counter() - started) * 1000)
        tally.by_status[door][response.status_code] += 1
        tally.by_operation[door][f"{operation} {response.status_code}"] += 1
        if response.status_code < 500 and response.headers.get("x-served-by") != door:
            tally.wrong_door[door] += 1
        if response.status_code >= 500 or response.status_code != expected:
            bucket = tally.server_errors if response.status_code >= 500 else tally.unexpected
            if len(bucket) < SAMPLE_LIMIT:
                bucket.append({"door": door, "operation": operation, "method": method, "path": path,
                               "status": response.status_code,
                               "request_id": response.headers.get("x-request-id", request_id),
                               "body": response.text[:300]})
        return response

    async def login(self) -> bool:
        response = await self.call("login", "POST", "/auth/login",
                                   json={"username": self.username, "password": self.password})
        if response is None or response.status_code != 200:
            return False
        self.token = response.json()["access_token"]
        return True

    def _pick(self) -> str:
        writes = WRITE_WEIGHTS if self.role != "viewer" else {k: WRITE_WEIGHTS[k] for k in VIEWER_WRITES}
        weights = READ_WEIGHTS | writes
        operation = self.rng.choices(list(weights), weights=list(weights.values()))[0]
        if operation in ("update_job", "delete_job") and not self.own_jobs:
            return "create_job"
        if operation == "create_job" and len(self.own_jobs) >= OWN_JOBS_CAP:
            return "delete_job"
        return operation

    def _any_job(self) -> str:
        if self.own_jobs and self.rng.random() < 0.2:
            return self.rng.choice(self.own_jobs)
        return self.rng.choice(self.fired_job_ids)

    # --- the loop ---------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        if not self.token:
            await self.login()
        while not stop.is_set():
            await getattr(self, f"_op_{self._pick()}")()
            if self.pause:
                await asyncio.sleep(self.pause)
        await self.cleanup()

    async def cleanup(self) -> None:
        """Delete the jobs this client still owns (the soak leaves no created jobs behind)."""
        while self.own_jobs:
            await self._op_delete_job()

    # --- reads ------------------------------------------------------------------------------

    async def _op_jobs_list(self) -> None:
        await self.call("jobs_list", "GET", "/jobs")

    async def _op_job_detail(self) -> None:
        await self.call("job_detail", "GET", f"/jobs/{self._any_job()}")

    async def _op_job_executions(self) -> None:
        await self.call("job_executions", "GET", f"/jobs/{self.rng.choice(self.fired_job_ids)}/executions",
                        params={"limit": 20})

    async def _op_executions(self) -> None:
        await self.call("executions", "GET", "/executions", params={"page": self.rng.randint(1, 5), "limit": 20})

    async def _op_statistics(self) -> None:
        await self.call("statistics", "GET", "/executions/statistics")

    async def _op_notifications(self) -> None:
        await self.call("notifications", "GET", "/notifications",
                        params={"page": 1, "per_page": 10, "unread_only": self.rng.choice(["true", "false"])})

    async def _op_unread_count(self) -> None:
        await self.call("unread_count", "GET", "/notifications/unread-count")

    async def _op_me(self) -> None:
        await self.call("me", "GET", "/auth/me")

    # --- writes -----------------------------------------------------------------------------

    async def _op_create_job(self) -> None:
        name = f"soak-{self.label}-{self._sequence}-{self.rng.randrange(1 << 30):08x}"
        body = {
            "name": name, "cron_expression": CREATED_JOB_CRON,
            "end_date": (date.today() + timedelta(days=30)).isoformat(), "pic_team": "team-a",
            "target_url": f"{self.receiver_url}/stray/{name}", "metadata": {"soak": True},
        }
        response = await self.call("create_job", "POST", "/jobs", expected=201, json=body)
        if response is not None and response.status_code == 201:
            self.own_jobs.append(response.json()["job"]["id"])

    async def _op_update_job(self) -> None:
        job_id = self.rng.choice(self.own_jobs)
        body: dict[str, Any] = (
            {"metadata": {"soak": True, "edit": self._sequence}} if self.rng.random() < 0.6
            else {"is_active": self.rng.random() < 0.5}
        )
        await self.call("update_job", "PUT", f"/jobs/{job_id}", json=body)

    async def _op_delete_job(self) -> None:
        job_id = self.own_jobs.pop(self.rng.randrange(len(self.own_jobs)))
        await self.call("delete_job", "DELETE", f"/jobs/{job_id}")

    async def _op_login(self) -> None:
        await self.login()

    async def _op_mark_read(self) -> None:
        listed = await self.call("mark_read_list", "GET", "/notifications",
                                 params={"page": 1, "per_page": 5, "unread_only": "true"})
        if listed is None or listed.status_code != 200:
            return
        unread = listed.json().get("notifications") or []
        if unread:
            await self.call("mark_read", "PUT", f"/notifications/{self.rng.choice(unread)['id']}/read")

    async def _op_read_all(self) -> None:
        await self.call("read_all", "PUT", "/notifications/read-all")

"""The FastAPI door with FASTAPI_WORKERS=2, as `serve` starts it (real uvicorn worker processes).

One scenario, run on SQLite (tests/scheduler) and PostgreSQL (tests/postgres): exactly one worker
leads the scheduler; a write answered by one worker is read at once on the other (job list cache
included); 30 jobs fire in two waves with the leading worker killed (kill -9) between them, and
every fire reaches the receiver exactly once; `/metrics` on either worker is the sum of both.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select
from sqlalchemy.orm import Session

from src.config import PROJECT_ROOT, Settings
from src.core.passwords import hash_password
from src.database.engines import create_sync_engine_from_settings, make_session_factory
from src.deploy.nginx import NginxInstance
from src.deploy.supervisor import split_children
from src.models import JobExecution, PicTeam, SchedulerLease, User, utcnow
from tests.conftest import PASSWORD
from tests.door_servers import free_port
from tests.scheduler.conftest import TimedReceiver
from tests.scheduler.workers_app import WORKER_HEADER

WORKERS = 2
JOBS = 30
LEASE_SECONDS = 2


def _worker_pids(pid: int) -> set[int]:
    """uvicorn's worker processes (multiprocessing spawns them; its resource tracker is no worker)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found |= {int(child) for child in (task / "children").read_text().split()}
        except OSError:
            continue
    workers = set()
    for child in found:
        try:
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                workers.add(child)
        except OSError:
            continue
    return workers


def _wait(condition: Callable[[], Any], timeout: float, state: Callable[[], str] = lambda: "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout:.0f} s {state()}")
        time.sleep(0.1)


class Workers:
    """The uvicorn process tree; each call opens a new connection, so the kernel picks the worker."""

    def __init__(self, process: subprocess.Popen[bytes], base: str, log: Path) -> None:
        self.process, self.base, self.log = process, base, log
        self.token = ""
        self.answered = 0

    def pids(self) -> set[int]:
        return _worker_pids(self.process.pid)

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        with httpx.Client(base_url=self.base, timeout=20) as client:
            response = client.request(method, path, headers=headers, **kwargs)
        self.answered += 1
        return response

    def on_worker(self, method: str, path: str, wanted: Callable[[int], bool], **kwargs: Any) -> httpx.Response:
        """The first answer from a worker `wanted(pid)` accepts (new connections until one does)."""
        for _ in range(200):
            response = self.call(method, path, **kwargs)
            if wanted(int(response.headers[WORKER_HEADER])):
                return response
        raise AssertionError(f"no wanted worker answered {method} {path} in 200 connections")

    def metrics(self, pid: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        # Served beside the API, not under its prefix.
        origin = self.base.removesuffix("/api/v2")
        response = self.on_worker("GET", origin + "/metrics", lambda answered: answered == pid)
        return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
                for family in text_string_to_metric_families(response.text) for sample in family.samples}


@contextmanager
def fastapi_workers(settings: Settings, folder: Path) -> Iterator[Workers]:
    """uvicorn with the supervisor's own FastAPI command and environment, serving tests.scheduler.workers_app."""
    port = free_port()
    metrics_dir = folder / "metrics"
    metrics_dir.mkdir()
    env = {key: value for key, value in os.environ.items() if key != "TEST_DATABASE_URL"}
    env.update(DATABASE_URL=settings.DATABASE_URL, FLASK_ENV="development", SECRET_KEY=settings.SECRET_KEY,
               JWT_SECRET_KEY=settings.JWT_SECRET_KEY, SCHEDULER_HOST="fastapi", MAIL_ENABLED="false",
               SCHEDULER_LEASE_SECONDS=str(LEASE_SECONDS), SCHEDULER_SYNC_SECONDS="0.3",
               ALLOW_PRIVATE_TARGETS="true", SHADOW_READS="off", FASTAPI_WORKERS=str(WORKERS),
               FASTAPI_PORT=str(port), PYTHONPATH=str(PROJECT_ROOT))
    served = Settings(_env_file=None, **{k: env[k] for k in Settings.model_fields if k in env})  # type: ignore[call-arg]  # pydantic-settings' _env_file is no declared field
    child = next(c for c in split_children(served, NginxInstance("nginx", folder / "nginx"), legacy=False,
                                           fastapi_metrics_dir=metrics_dir) if c.label == "fastapi")
    assert child.argv[child.argv.index("--workers") + 1] == str(WORKERS)
    argv = ["tests.scheduler.workers_app:create_app" if arg == "src.fastapi_app.main:create_app" else arg
            for arg in child.argv]
    log = folder / "uvicorn.log"
    with log.open("wb") as out:
        process = subprocess.Popen(argv, cwd=PROJECT_ROOT, env={**env, **child.env}, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    workers = Workers(process, f"http://127.0.0.1:{port}/api/v2", log)
    try:
        yield workers
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _leader_pid(db: Session) -> int | None:
    db.expire_all()
    row = db.scalar(select(SchedulerLease))
    return row.pid if row is not None and row.expires_at > utcnow() else None


def _total(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    wanted = set(labels.items())
    return sum(value for (sample, sample_labels), value in samples.items()
               if sample == name and wanted <= set(sample_labels))


def run_two_worker_scenario(settings: Settings, folder: Path) -> None:
    engine = create_sync_engine_from_settings(settings)
    db = make_session_factory(engine)()
    receiver = TimedReceiver().start()
    try:
        db.add(User(username="admin", email="admin@example.com", password_hash=hash_password(PASSWORD), role="admin"))
        db.add(PicTeam(name="Team A", slug="team-a", slack_handle="@team-a", is_active=True))
        db.commit()
        with fastapi_workers(settings, folder) as workers:
            # Both workers up and answering.
            _wait(lambda: len(workers.pids()) == WORKERS, 90, lambda: workers.log.read_text()[-2000:])
            seen: set[int] = set()

            def both_answer() -> bool:
                with suppress(httpx.TransportError):
                    seen.add(int(workers.call("GET", "/health").headers[WORKER_HEADER]))
                return seen >= workers.pids()

            _wait(both_answer, 90, lambda: workers.log.read_text()[-2000:])
            first, second = sorted(workers.pids())

            # Exactly one worker leads the scheduler.
            _wait(lambda: _leader_pid(db) in {first, second}, 20, lambda: workers.log.read_text()[-2000:])

            login = workers.call("POST", "/auth/login", json={"username": "admin", "password": PASSWORD})
            assert login.status_code == 200, login.text
            workers.token = login.json()["access_token"]

            # A write on one worker is read at once on the other (each has rendered the list before).
            created = workers.call("POST", "/jobs", json={
                "name": "shared", "cron_expression": "0 2 * * *", "target_url": f"{receiver.url}/shared",
                "category": "general", "pic_team": "team-a", "end_date": "2099-01-01"})
            assert created.status_code == 201, created.text
            job_id = created.json()["job"]["id"]
            for pid in (first, second):
                listed = workers.on_worker("GET", "/jobs", lambda answered, pid=pid: answered == pid)
                assert [job["name"] for job in listed.json()["jobs"]] == ["shared"]
            writer = workers.call("PUT", f"/jobs/{job_id}", json={"name": "renamed"})
            assert writer.status_code == 200, writer.text
            writer_pid = int(writer.headers[WORKER_HEADER])
            other = second if writer_pid == first else first
            listed = workers.on_worker("GET", "/jobs", lambda answered: answered == other)
            assert [job["name"] for job in listed.json()["jobs"]] == ["renamed"]
            detail = workers.on_worker("GET", f"/jobs/{job_id}", lambda answered: answered == other)
            assert detail.json()["job"]["name"] == "renamed"

            # Two waves of fires, the leading worker killed between them.
            first_wave = int(time.time()) + 8
            second_wave = first_wave + 12
            for n in range(JOBS):
                response = workers.call("POST", "/jobs", json={
                    "name": f"fire-{n:02d} @{first_wave},{second_wave}", "cron_expression": "0 2 * * *",
                    "target_url": f"{receiver.url}/hook/{n:02d}", "category": "general", "pic_team": "team-a",
                    "end_date": "2099-01-01"})
                assert response.status_code == 201, response.text

            def progress() -> str:
                return f"{len(receiver.requests)} requests; log: {workers.log.read_text()[-1500:]}"

            _wait(lambda: len(receiver.requests) >= JOBS, first_wave - time.time() + 20, progress)
            leader = _leader_pid(db)
            assert leader in workers.pids()
            os.kill(leader, signal.SIGKILL)
            _wait(lambda: _leader_pid(db) not in {None, leader}, LEASE_SECONDS + 20, progress)
            assert _leader_pid(db) in workers.pids()
            _wait(lambda: len(receiver.requests) >= 2 * JOBS, second_wave - time.time() + 25, progress)
            time.sleep(2.0)  # anything duplicated would arrive now

            counts = Counter(request.path for request in receiver.requests)
            assert counts == {f"/hook/{n:02d}": 2 for n in range(JOBS)}
            db.expire_all()
            runs = db.execute(select(JobExecution.scheduled_for, JobExecution.status)
                              .where(JobExecution.trigger_type == "scheduled")).all()
            assert len(runs) == 2 * JOBS
            # Runs the killed leader had dispatched but not yet finalized stay `running` (the next
            # leader closes them as interrupted once they are old enough); the second wave succeeded.
            last = max(at for at, _status in runs)
            assert {status for at, status in runs if at == last} == {"success"}
            assert {status for _at, status in runs} <= {"success", "running"}

            # /metrics, whichever worker answers, is the sum of all workers (the killed one included).
            pids = sorted(workers.pids())
            answered_before = workers.answered
            scrapes = [workers.metrics(pid) for pid in pids]
            for samples in scrapes:
                # The second wave's leader counted on another worker than most requests; the first
                # wave's counts depend on how far the killed leader got, so only bounds hold.
                assert JOBS <= _total(samples, "scheduler_fires_total", outcome="success") <= 2 * JOBS
                assert _total(samples, "scheduler_lease_holder", host_kind="fastapi") == 1
                assert _total(samples, "http_requests_total", door="fastapi") >= answered_before
    finally:
        receiver.stop()
        db.close()
        engine.dispose()

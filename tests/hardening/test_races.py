"""Races through both doors as real servers, on one SQLite file and on PostgreSQL (issue 7 "Races").

- 50 concurrent creates of one name: exactly one job, every other answer the "Duplicate job name" 400.
- Concurrent edits of one job: the row ends with every field from one writer, never a mix.
- A bulk import whose insert fails midway leaves no job behind and answers an error envelope.
"""

from __future__ import annotations

import io
import itertools
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from src.core.bulk_upload import INSERT_REFUSED
from src.models import Job
from tests.conftest import legacy_door
from tests.hardening.servers import Deployment, db, deployment  # noqa: F401  (fixtures)

# Races the two doors (gunicorn and uvicorn) against each other.
pytestmark = legacy_door

CREATES = 50
END_DATE = (date.today() + timedelta(days=90)).isoformat()
_names = itertools.count(1)


def unique(label: str) -> str:
    return f"{label}-{next(_names)}-{threading.get_ident() % 1000}"


def job_body(name: str, **fields: object) -> dict[str, object]:
    return {"name": name, "cron_expression": "0 2 * * *", "end_date": END_DATE,
            "target_url": "http://127.0.0.1:9/hook", "pic_team": "team-a", **fields}


def all_at_once(calls: list[tuple[str, dict[str, object]]], deployment: Deployment,  # noqa: F811  # the imported pytest fixture, injected by name
                method: str, path: str) -> list[httpx.Response]:
    """Fire every call from its own thread, released together by a barrier."""
    barrier = threading.Barrier(len(calls))

    def one(call: tuple[str, dict[str, object]]) -> httpx.Response:
        door, body = call
        barrier.wait(timeout=30)
        return deployment.doors[door].call(method, path, deployment.admin_token, json=body)

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(one, calls))


def test_fifty_concurrent_creates_of_one_name_make_exactly_one_job(deployment: Deployment,  # noqa: F811  # the imported pytest fixture, injected by name
                                                                   db: Session) -> None:  # noqa: F811  # the imported pytest fixture, injected by name
    name = unique("race-create")
    calls = [("flask" if n % 2 else "fastapi", job_body(name)) for n in range(CREATES)]
    responses = all_at_once(calls, deployment, "POST", "/jobs")

    statuses = Counter(response.status_code for response in responses)
    assert statuses == {201: 1, 400: CREATES - 1}, [r.text for r in responses if r.status_code not in (201, 400)]
    duplicate = {"error": "Duplicate job name",
                 "message": f'A job with the name "{name}" already exists. Please use a unique name.'}
    assert all(r.json() == duplicate for r in responses if r.status_code == 400)
    assert db.scalar(select(func.count()).select_from(Job).where(Job.name == name)) == 1


EDIT_ROUNDS = 8


def test_concurrent_edits_leave_every_field_from_one_writer(deployment: Deployment, db: Session) -> None:  # noqa: F811  # the imported pytest fixture, injected by name
    mixed = []
    for _ in range(EDIT_ROUNDS):
        job_name = unique("edit")
        created = deployment.doors["fastapi"].call("POST", "/jobs", deployment.admin_token, json=job_body(job_name))
        assert created.status_code == 201, created.text
        job_id = created.json()["job"]["id"]
        # Each writer sends a consistent (name, cron, target) triple. Half of them send the
        # original cron: an UPDATE of changed columns only, computed from a row read before
        # another writer committed, would keep that writer's cron under this writer's name.
        # (Names from the job's own: ids made in one minute share their first characters.)
        writers = {f"{job_name}-{n}": f"{n} 2 * * *" for n in range(1, 6)}
        writers.update({f"{job_name}-orig{n}": "0 2 * * *" for n in range(5)})
        calls = [("flask" if n % 2 else "fastapi",
                  {"name": name, "cron_expression": cron, "target_url": f"http://127.0.0.1:9/{name}"})
                 for n, (name, cron) in enumerate(writers.items())]
        responses = all_at_once(calls, deployment, "PUT", f"/jobs/{job_id}")
        assert [r.status_code for r in responses] == [200] * len(calls), [r.text for r in responses]
        db.expire_all()
        job = db.get(Job, job_id)
        assert job is not None
        if (job.cron_expression, job.target_url) != (writers[job.name], f"http://127.0.0.1:9/{job.name}"):
            mixed.append((job.name, job.cron_expression, job.target_url))
    assert mixed == []


# --- a bulk import that fails midway --------------------------------------------------------

POISON = "bulk-poison"


def install_poison_trigger(db: Session) -> None:  # noqa: F811  # the imported pytest fixture, injected by name
    """A rule only the insert can discover: the database refuses a job named POISON."""
    if db.get_bind().dialect.name == "sqlite":
        db.execute(text(
            f"CREATE TRIGGER IF NOT EXISTS refuse_poison BEFORE INSERT ON jobs WHEN NEW.name = '{POISON}' "
            "BEGIN SELECT RAISE(ABORT, 'poison job name'); END"
        ))
    else:
        db.execute(text(
            "CREATE OR REPLACE FUNCTION refuse_poison() RETURNS trigger AS $$ BEGIN "
            f"IF NEW.name = '{POISON}' THEN RAISE EXCEPTION 'poison job name' USING ERRCODE = 'check_violation'; "
            "END IF; RETURN NEW; END $$ LANGUAGE plpgsql"
        ))
        db.execute(text("DROP TRIGGER IF EXISTS refuse_poison ON jobs"))
        db.execute(
            text("CREATE TRIGGER refuse_poison BEFORE INSERT ON jobs FOR EACH ROW EXECUTE FUNCTION refuse_poison()")
        )
    db.commit()


def csv_with(names: list[str]) -> bytes:
    lines = ["Job Name,Cron Schedule (JST),Target URL,PIC Team,End Date"]
    lines += [f"{name},0 3 * * *,http://127.0.0.1:9/{name},team-a,{END_DATE}" for name in names]
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize("door", ["flask", "fastapi"])
def test_bulk_upload_failing_midway_leaves_nothing_behind(deployment: Deployment, db: Session,  # noqa: F811  # the imported pytest fixture, injected by name
                                                          door: str) -> None:
    install_poison_trigger(db)
    prefix = unique(f"bulk-{door}")
    names = [f"{prefix}-{n}" for n in range(5)] + [POISON] + [f"{prefix}-{n}" for n in range(5, 10)]
    before = db.scalar(select(func.count()).select_from(Job))

    files = {"file": ("jobs.csv", io.BytesIO(csv_with(names)), "text/csv")}
    response = deployment.doors[door].call("POST", "/jobs/bulk-upload", deployment.admin_token, files=files)

    assert response.status_code == 400, response.text
    body = response.json()
    assert (body["error"], body["message"]) == ("Bulk upload failed", INSERT_REFUSED)
    assert (body["created_count"], body["jobs"]) == (0, [])
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Job)) == before
    assert db.scalar(select(func.count()).select_from(Job).where(Job.name.startswith(prefix))) == 0

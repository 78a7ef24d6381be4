"""Execution statistics (contract 5.5, 1.7): one aggregate query, fast on a large table."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from src.config import Settings
from src.models import Job, JobExecution, User, new_id
from tests.api.conftest import ApiClient
from tests.conftest import Factory, legacy_door
from tests.sql_statements import counting

INVALID_DATE = {"error": "Invalid date", "message": "Invalid date format. Use YYYY-MM-DD or ISO datetime."}
INVALID_RANGE = {"error": "Invalid date range", "message": '"from" must be earlier than "to".'}
BASE = datetime(2025, 6, 1, 12, 0, 0)
ZEROS = {"total_executions": 0, "successful_executions": 0, "failed_executions": 0, "running_executions": 0,
         "success_rate": 0.0, "average_duration_seconds": 0.0}


@pytest.fixture
def token(factory: Factory, viewer: User) -> str:
    return factory.token(viewer)


@pytest.fixture
def job(factory: Factory) -> Job:
    return factory.job(name="Nightly")


def _numbers(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key != "range"}


def _seed_mixed(factory: Factory, job: Job) -> None:
    factory.execution(job, started_at=BASE, status="success", duration_seconds=1.0)
    factory.execution(job, started_at=BASE, status="success", duration_seconds=2.0)
    factory.execution(job, started_at=BASE, status="failed", duration_seconds=6.0)
    factory.execution(job, started_at=BASE, status="running")


@pytest.mark.parametrize("path", ["/executions/statistics", "/stats/executions"])
def test_statistics_over_everything(api: ApiClient, factory: Factory, job: Job, token: str, path: str) -> None:
    _seed_mixed(factory, job)
    factory.execution(job, started_at=BASE, status="failed")
    factory.execution(job, started_at=BASE, status="success")
    response = api.get(path, token=token)
    assert response.status_code == 200
    assert response.json() == {
        "total_executions": 6, "successful_executions": 3, "failed_executions": 2, "running_executions": 1,
        "success_rate": 50.0, "average_duration_seconds": 3.0, "range": {"from": None, "to": None},
    }


def test_success_rate_is_not_rounded(api: ApiClient, factory: Factory, job: Job, token: str) -> None:
    factory.execution(job, status="success")
    factory.execution(job, status="failed")
    factory.execution(job, status="failed")
    assert api.get("/executions/statistics", token=token).json()["success_rate"] == pytest.approx(100 / 3, abs=1e-12)


def test_average_covers_every_status_with_a_duration(api: ApiClient, factory: Factory, job: Job, token: str) -> None:
    factory.execution(job, status="failed", duration_seconds=0.5)
    factory.execution(job, status="running", duration_seconds=None)
    assert api.get("/executions/statistics", token=token).json()["average_duration_seconds"] == 0.5


def test_no_executions_gives_zeros(api: ApiClient, token: str) -> None:
    body = api.get("/executions/statistics", token=token).json()
    assert _numbers(body) == ZEROS
    assert isinstance(body["average_duration_seconds"], float) and isinstance(body["success_rate"], float)


def test_unknown_job_id_gives_zeros(api: ApiClient, factory: Factory, job: Job, token: str) -> None:
    _seed_mixed(factory, job)
    response = api.get("/executions/statistics?job_id=unknown", token=token)
    assert response.status_code == 200
    assert _numbers(response.json()) == ZEROS


def test_job_id_filters(api: ApiClient, factory: Factory, job: Job, token: str) -> None:
    _seed_mixed(factory, job)
    factory.execution(factory.job(), status="failed", duration_seconds=100.0)
    body = api.get(f"/executions/statistics?job_id={job.id}", token=token).json()
    assert (body["total_executions"], body["failed_executions"], body["average_duration_seconds"]) == (4, 1, 3.0)


def test_date_only_range_includes_to_day_and_is_echoed(api: ApiClient, factory: Factory, job: Job, token: str) -> None:
    factory.execution(job, started_at=datetime(2025, 6, 1, 0, 0, 0))
    factory.execution(job, started_at=datetime(2025, 6, 7, 23, 59, 59), status="failed")
    factory.execution(job, started_at=datetime(2025, 6, 8, 0, 0, 0))
    factory.execution(job, started_at=datetime(2025, 5, 31, 23, 59, 59))
    body = api.get("/executions/statistics?from=2025-06-01&to=2025-06-07", token=token).json()
    assert (body["total_executions"], body["successful_executions"], body["failed_executions"]) == (2, 1, 1)
    assert body["range"] == {"from": "2025-06-01T00:00:00.000Z", "to": "2025-06-08T00:00:00.000Z"}


def test_iso_range_last_24_hours(api: ApiClient, factory: Factory, job: Job, token: str) -> None:
    factory.execution(job, started_at=BASE - timedelta(hours=25), status="failed")
    factory.execution(job, started_at=BASE - timedelta(hours=1), status="failed")
    body = api.get("/executions/statistics", token=token,
                   params={"from": "2025-05-31T12:00:00.000Z", "to": "2025-06-01T21:00:00.000+09:00"}).json()
    assert body["failed_executions"] == 1
    assert body["range"] == {"from": "2025-05-31T12:00:00.000Z", "to": "2025-06-01T12:00:00.000Z"}


def test_only_from_is_echoed_with_open_to(api: ApiClient, token: str) -> None:
    body = api.get("/executions/statistics?from=2025-06-01T08:30:00", token=token).json()
    assert body["range"] == {"from": "2025-06-01T08:30:00.000Z", "to": None}


@pytest.mark.parametrize(("query", "expected"), [
    ("from=31/05/2025", INVALID_DATE),
    ("to=tomorrow", INVALID_DATE),
    ("from=2025-06-08&to=2025-06-01", INVALID_RANGE),
    ("from=2025-06-01T00:00:00Z&to=2025-06-01T00:00:00Z", INVALID_RANGE),
])
def test_date_errors_are_400(api: ApiClient, token: str, query: str, expected: dict[str, str]) -> None:
    response = api.get(f"/executions/statistics?{query}", token=token)
    assert response.status_code == 400
    assert response.json() == expected


def test_statistics_is_not_taken_for_an_execution_id(api: ApiClient, token: str) -> None:
    response = api.get("/executions/statistics", token=token)
    assert response.status_code == 200
    assert "total_executions" in response.json()


def test_statistics_requires_authentication(api: ApiClient) -> None:
    assert api.get("/executions/statistics").status_code == 401


# --- one aggregate query, fast on 100,000 rows ------------------------------------------------


@pytest.fixture
def flask_counting(settings: Settings) -> Iterator[tuple[httpx.Client, list[str]]]:
    """The Flask door with a statement recorder on its engine."""
    from src.flask_app import create_app

    app = create_app(settings)
    with app.app_context():
        engine = app.extensions["sqlalchemy"].engine
    try:
        transport = httpx.WSGITransport(app=app)
        with counting(engine) as statements, httpx.Client(transport=transport, base_url="http://testserver") as client:
            yield client, statements
    finally:
        app.extensions["runtime"].close()


def _bulk_executions(db: Session, jobs: list[Job], count: int) -> None:
    """`count` executions: a tenth built in Python, the rest copied by INSERT ... SELECT (fast)."""
    table = JobExecution.__table__
    statuses = ("success", "success", "success", "failed", "running")
    seed = count // 10
    db.execute(
        table.insert(),
        [
            {
                "id": new_id(),
                "job_id": jobs[i % len(jobs)].id,
                "status": statuses[i % len(statuses)],
                "trigger_type": "scheduled" if i % 2 else "manual",
                "started_at": BASE - timedelta(seconds=i),
                "duration_seconds": float(i % 10) if i % 5 != 4 else None,
            }
            for i in range(seed)
        ],
    )
    copied = [column for column in table.c if column.key != "id"]
    # A UUID never has "-" at position 35, so "<first 34 chars>-<k>" stays unique and 36 long.
    originals = func.substr(table.c.id, 35, 1) != "-"
    for k in range(1, 10):
        new_ids = (func.substr(table.c.id, 1, 34) + f"-{k}").label("id")
        db.execute(
            insert(table).from_select(["id", *[c.key for c in copied]], select(new_ids, *copied).where(originals))
        )
    db.commit()


def _execution_selects(statements: list[str]) -> list[str]:
    return [s for s in statements if s.lstrip().upper().startswith("SELECT") and "job_executions" in s]


@legacy_door
def test_statistics_is_one_aggregate_select(
    flask_counting: tuple[httpx.Client, list[str]], factory: Factory, job: Job, token: str
) -> None:
    client, statements = flask_counting
    _seed_mixed(factory, job)
    statements.clear()
    response = client.get("/api/executions/statistics?from=2025-06-01", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    [aggregate] = _execution_selects(statements)
    assert "count(" in aggregate.lower() and "group by" in aggregate.lower()


@legacy_door
def test_statistics_on_100000_executions_is_exact_in_one_select(
    flask_counting: tuple[httpx.Client, list[str]], factory: Factory, db: Session, token: str
) -> None:
    client, statements = flask_counting
    jobs = [factory.job() for _ in range(20)]
    _bulk_executions(db, jobs, 100_000)
    headers = {"Authorization": f"Bearer {token}"}
    client.get("/api/executions/statistics", headers=headers)  # warm the connection and page cache
    statements.clear()
    response = client.get("/api/executions/statistics?from=2025-05-01&to=2025-06-01", headers=headers)
    body = response.json()
    assert body["total_executions"] == 100_000
    assert (body["successful_executions"], body["failed_executions"], body["running_executions"]) == (
        60_000,
        20_000,
        20_000,
    )
    assert body["success_rate"] == 60.0
    assert body["average_duration_seconds"] == pytest.approx(4.0)  # durations 0-9 without the running rows (4, 9)
    # Speed is measured by the benchmarks under bench/, never asserted here.
    assert len(_execution_selects(statements)) == 1


def test_years_below_1000_are_echoed_with_four_digits(api: ApiClient, token: str) -> None:
    body = api.get("/executions/statistics?from=0001-01-01T00:00:00Z&to=0999-12-31", token=token).json()
    assert body["range"] == {"from": "0001-01-01T00:00:00.000Z", "to": "1000-01-01T00:00:00.000Z"}


@pytest.mark.parametrize(("query", "echoed"), [
    ("to=9999-12-31", {"from": None, "to": "9999-12-31T23:59:59.999Z"}),
    ("from=0001-01-01T00:00:00%2B09:00", {"from": "0001-01-01T00:00:00.000Z", "to": None}),
])
def test_dates_past_the_calendar_ends_are_its_last_or_first_instant(
    api: ApiClient, token: str, query: str, echoed: dict[str, str | None]
) -> None:
    # The document's pattern accepts them (a real date, a valid offset): a bound, never a 400 or 500.
    response = api.get(f"/executions/statistics?{query}", token=token)
    assert response.status_code == 200
    assert response.json()["range"] == echoed

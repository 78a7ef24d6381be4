"""Stored shadow-read results and `GET /api/v2/admin/parity` (contract 6.12), on SQLite and PostgreSQL.

The endpoint exists on the FastAPI door only, so it is called there, not through each door.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from src.config import Settings
from src.core.errors import CoreError
from src.core.parity import ParityBatch, ValueDifference, explain_difference, record_batch, unexplained_differences
from src.models import ParityCount, utcnow
from tests.api.conftest import fastapi_http
from tests.conftest import Factory

DAY = timedelta(hours=24)


@pytest.fixture
def http(settings: Settings) -> Iterator[httpx.Client]:
    with fastapi_http(settings) as client:
        yield client


def store(db: Session, *outcomes: tuple[str, str, list[ValueDifference] | None], sample_limit: int = 5,
          hours_ago: int = 0) -> None:
    batch = ParityBatch(sample_limit=sample_limit)
    for route, outcome, differences in outcomes:
        batch.add(route, outcome, utcnow() - timedelta(hours=hours_ago), differences, "req")  # type: ignore[arg-type]  # the outcome strings are the literals the batch takes
    record_batch(sessionmaker(bind=db.get_bind()), batch)


SLUG = [ValueDifference("$.categories[0].slug", "a", "A")]


def report(http: httpx.Client, token: str, query: str = "") -> httpx.Response:
    return http.get(f"/api/v2/admin/parity{query}", headers={"Authorization": f"Bearer {token}"})


def test_batches_add_up_per_route(db: Session) -> None:
    store(db, ("GET /api/jobs", "matched", None), ("GET /api/jobs", "raced", None))
    store(db, ("GET /api/jobs", "matched", None), ("GET /api/categories", "mismatched", SLUG))
    rows = {row.route: (row.compared, row.matched, row.mismatched, row.raced) for row in db.query(ParityCount)}
    assert rows == {"GET /api/jobs": (3, 2, 0, 1), "GET /api/categories": (1, 0, 1, 0)}


def test_samples_of_a_difference_stop_at_the_limit(db: Session, http: httpx.Client, factory: Factory) -> None:
    for _ in range(3):
        store(db, *[("GET /api/categories", "mismatched", SLUG)] * 2, sample_limit=3)
    [route] = report(http, factory.token(factory.user("admin"))).json()["routes"]
    [difference] = route["differences"]
    assert (route["mismatched"], difference["count"], len(difference["samples"])) == (6, 6, 3)
    assert difference["samples"][0]["values"] == [{"path": "$.categories[0].slug", "legacy": "a", "v2": "A"}]


def test_admin_gets_the_report_of_the_window(db: Session, http: httpx.Client, factory: Factory) -> None:
    store(db, ("GET /api/jobs", "matched", None))
    store(db, ("GET /api/teams", "matched", None), hours_ago=30)
    body = report(http, factory.token(factory.user("admin")), "?since=24h").json()
    assert [row["route"] for row in body["routes"]] == ["GET /api/jobs"]
    [row] = body["routes"]
    assert {key: row[key] for key in ("compared", "matched", "mismatched", "raced", "differences")} == {
        "compared": 1, "matched": 1, "mismatched": 0, "raced": 0, "differences": []}
    assert row["first_seen"].endswith("Z") and body["since"].endswith("Z")
    wider = report(http, factory.token(factory.user("admin")), "?since=2d").json()
    assert [row["route"] for row in wider["routes"]] == ["GET /api/jobs", "GET /api/teams"]


@pytest.mark.parametrize("since", ["%202h%20", "0002h", "999999d"])
def test_a_window_may_have_spaces_leading_zeros_and_six_digits(
    http: httpx.Client, factory: Factory, since: str
) -> None:
    assert report(http, factory.token(factory.user("admin")), f"?since={since}").status_code == 200


@pytest.mark.parametrize("since", ["24", "0h", "1w", "-3h", "h", "1000000h", "000000h"])
def test_a_bad_window_is_a_400(http: httpx.Client, factory: Factory, since: str) -> None:
    response = report(http, factory.token(factory.user("admin")), f"?since={since}")
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid since",
                               "message": "since must be a positive whole number followed by m, h or d (e.g. 24h)."}


@pytest.mark.parametrize("role", ["user", "viewer"])
def test_non_admins_are_refused(http: httpx.Client, factory: Factory, role: str) -> None:
    response = report(http, factory.token(factory.user(role)))
    assert response.status_code == 403
    assert response.json() == {"error": "Insufficient permissions",
                               "message": "This endpoint requires one of the following roles: admin"}


def test_anonymous_is_refused(http: httpx.Client) -> None:
    response = http.get("/api/v2/admin/parity")
    assert response.status_code == 401
    assert response.json()["error"] == "Authorization required"


def test_only_unexplained_differences_block(db: Session) -> None:
    store(db, ("GET /api/categories", "mismatched", SLUG), ("GET /api/jobs", "matched", None))
    [blocking] = unexplained_differences(db, DAY)
    assert (blocking.route, blocking.paths) == ("GET /api/categories", ["$.categories[*].slug"])
    explain_difference(db, blocking.id, "known: slugs differ in case")
    db.commit()
    assert unexplained_differences(db, DAY) == []


def test_a_difference_not_seen_in_the_window_does_not_block(db: Session) -> None:
    store(db, ("GET /api/categories", "mismatched", SLUG), hours_ago=30)
    assert unexplained_differences(db, DAY) == []
    assert len(unexplained_differences(db, timedelta(hours=48))) == 1


def test_explaining_an_unknown_difference_is_a_404(db: Session) -> None:
    with pytest.raises(CoreError) as raised:
        explain_difference(db, 12345, "because")
    assert raised.value.status_code == 404

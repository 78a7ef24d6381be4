"""Shadow reads on a real deployment (nginx datagram → comparer in uvicorn → both doors): issue 18, item 1.

Reads through /api are answered by Flask and compared with /api/v2 afterwards; writes are never
mirrored; the mirror never fails or changes a client's answer.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from tests.conftest import legacy_door
from tests.proxy.conftest import Stack, nginx_or_skip

# Runs against the side-by-side deployment (gunicorn serves /api): needs the legacy door.
pytestmark = legacy_door

READ_ROUTES = (
    "GET /api/jobs", "GET /api/jobs/{job_id}", "GET /api/pic-teams", "GET /api/teams",
    "GET /api/job-categories", "GET /api/categories", "GET /api/notifications",
    "GET /api/notifications/unread-count", "GET /api/auth/me",
)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The deployment of tests/proxy, with room for every read of a burst (the default cap sheds some)."""
    deployment = Stack(tmp_path_factory.mktemp("shadow"), nginx_or_skip())
    deployment.env["SHADOW_MAX_IN_FLIGHT"] = "64"
    try:
        deployment.start_all()
        yield deployment
    finally:
        deployment.stop_all()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def parity_report(stack: Stack, *args: str) -> dict[str, Any]:
    done = stack.cli("parity", "report", "--json", *args)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]  # JSON is untyped


def report_once_compared(stack: Stack, routes: tuple[str, ...], timeout: float = 30.0) -> dict[str, dict[str, Any]]:
    """The report's rows once every route in `routes` has a comparison stored (written about once a second)."""
    deadline = time.monotonic() + timeout
    while True:
        rows = {row["route"]: row for row in parity_report(stack)["routes"]}
        if all(rows.get(route, {}).get("compared", 0) > 0 for route in routes) or time.monotonic() > deadline:
            return rows
        time.sleep(0.5)


@pytest.fixture(scope="module")
def reads_sent(stack: Stack) -> dict[str, Any]:
    """A team, a category and a job written through /api, then the reads of item 1 through /api."""
    token = stack.token()
    with stack.client() as client:
        auth = bearer(token)
        team = client.post("/api/pic-teams", headers=auth, json={"name": "Shadow Team", "slug": "shadow-team",
                                                                         "slack_handle": "@shadow"})
        assert team.status_code == 201, team.text
        category = client.post("/api/job-categories", headers=auth, json={"name": "Shadow Category"})
        assert category.status_code == 201, category.text
        created = client.post("/api/jobs", headers=auth, json={
            "name": "shadow-job", "cron_expression": "0 3 * * *", "target_url": "https://hooks.example.com/s",
            "pic_team": "shadow-team", "category": "shadow-category",
            "end_date": (date.today() + timedelta(days=300)).isoformat()})
        assert created.status_code == 201, created.text
        job_id = created.json()["job"]["id"]
        answers = {}
        for path in ("/api/jobs", f"/api/jobs/{job_id}", "/api/pic-teams", "/api/teams", "/api/job-categories",
                     "/api/categories", "/api/notifications", "/api/notifications/unread-count", "/api/auth/me"):
            response = client.get(path, headers=auth)
            assert (response.status_code, response.headers["X-Served-By"]) == (200, "flask"), path
            answers[path] = response
    return {"rows": report_once_compared(stack, READ_ROUTES), "job_id": job_id, "answers": answers}


def test_every_read_route_is_compared_and_matches(reads_sent: dict[str, Any]) -> None:
    rows = reads_sent["rows"]
    for route in READ_ROUTES:
        assert route in rows, f"{route} not compared; report has {sorted(rows)}"
        assert rows[route]["compared"] > 0
        assert (rows[route]["mismatched"], rows[route]["differences"]) == (0, []), rows[route]


def test_no_write_route_is_compared(reads_sent: dict[str, Any]) -> None:
    methods = {route.split(" ", 1)[0] for route in reads_sent["rows"]}
    assert methods <= {"GET", "HEAD"}


def test_admin_endpoint_answers_the_cli_report(stack: Stack, reads_sent: dict[str, Any]) -> None:
    with stack.client() as client:
        answer = client.get("/api/v2/admin/parity?since=1h", headers=bearer(stack.token()))
    assert answer.status_code == 200, answer.text
    cli = {row["route"]: row["compared"] for row in parity_report(stack, "--since", "1h")["routes"]}
    api = {row["route"]: row["compared"] for row in answer.json()["routes"]}
    # Comparisons keep arriving (the login and this request's own reads are not mirrored: POST, /api/v2).
    assert set(READ_ROUTES) <= set(api) and all(api[route] <= cli[route] for route in READ_ROUTES)


def test_prometheus_counts_each_route_by_outcome(stack: Stack, reads_sent: dict[str, Any]) -> None:
    metrics = httpx.get(f"http://127.0.0.1:{stack.fastapi_port}/metrics", timeout=10).text
    assert 'shadow_reads_total{outcome="matched",route="GET /api/jobs/{job_id}"}' in metrics
    assert 'outcome="mismatched"' not in metrics


def test_a_read_answers_the_same_with_the_comparer_down(stack: Stack) -> None:
    token = stack.token()
    with stack.client() as client:
        before = client.get("/api/job-categories", headers=bearer(token))
        stack.stop("fastapi")
        try:
            during = [client.get("/api/job-categories", headers=bearer(token)) for _ in range(3)]
        finally:
            stack.start("fastapi")
    for response in during:
        assert (response.status_code, response.headers["X-Served-By"]) == (200, "flask")
        assert response.json() == before.json()

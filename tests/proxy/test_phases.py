"""Items 1-4 of the proxy issue on one real deployment (see conftest.py): side-by-side routing,
cutover by internal rewrite, rollback under a client loop, and nginx's JSON envelope when an
upstream is down. Every test leaves the deployment side-by-side with all three processes up.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import legacy_door
from tests.json_logs import wait_for_json_line
from tests.proxy.conftest import Stack, process_tree, wait_for

# Side-by-side and the switches between phases need the Flask door.
pytestmark = legacy_door

UNAVAILABLE = {"error": "Service unavailable", "message": "The API server is unavailable, retry shortly."}
CSV_HEADER = "name,cron,url,end date,pic team"


@pytest.fixture
def side_by_side_after(stack: Stack) -> Iterator[Stack]:
    """Whatever the test did, restore Flask and the side-by-side phase."""
    yield stack
    if "flask" not in stack.processes:
        stack.start("flask")
    stack.phase("side-by-side")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def request_line(stack: Stack, door: str, request_id: str) -> dict[str, Any]:
    """The app's one JSON request line with this id (tests/observability checks every line is JSON)."""
    [line] = wait_for_json_line(
        stack.log_path(door), lambda e: e.get("logger") == "src.request" and e.get("request_id") == request_id)
    return line


def access_log_names(stack: Stack, request_id: str, timeout: float = 10.0) -> bool:
    """Whether nginx's access log gets a line with this id; nginx writes it after the response
    has left, so wait for it."""
    deadline = time.monotonic() + timeout
    while True:
        if f"request_id={request_id}" in (stack.nginx.prefix / "logs" / "access.log").read_text():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


# --- 1. side-by-side ---------------------------------------------------------------------------

def test_api_is_served_by_flask_and_api_v2_by_fastapi(stack: Stack) -> None:
    with stack.client() as client:
        assert client.get("/api/health").headers["X-Served-By"] == "flask"
        assert client.get("/health").headers["X-Served-By"] == "flask"
        assert client.get("/api/v2/health").headers["X-Served-By"] == "fastapi"
        assert client.get("/api/categories").headers["X-Served-By"] == "flask"
        assert client.get("/api/v2/categories").headers["X-Served-By"] == "fastapi"


def test_token_from_one_door_works_on_the_other_through_nginx(stack: Stack) -> None:
    with stack.client() as client:
        from_flask = client.get("/api/v2/auth/me", headers=bearer(stack.token("/api")))
        from_fastapi = client.get("/api/auth/me", headers=bearer(stack.token("/api/v2")))
    assert (from_flask.status_code, from_flask.headers["X-Served-By"]) == (200, "fastapi")
    assert (from_fastapi.status_code, from_fastapi.headers["X-Served-By"]) == (200, "flask")
    assert from_flask.json() == from_fastapi.json()


def test_request_id_given_by_the_client_reaches_both_apps_logs(stack: Stack) -> None:
    ids = {"flask": f"client-{uuid.uuid4().hex}", "fastapi": f"client-{uuid.uuid4().hex}"}
    with stack.client() as client:
        for door, path in (("flask", "/api/health"), ("fastapi", "/api/v2/health")):
            response = client.get(path, headers={"X-Request-ID": ids[door]})
            assert response.headers["X-Request-ID"] == ids[door]
    for door, path in (("flask", "/api/health"), ("fastapi", "/api/v2/health")):
        line = request_line(stack, door, ids[door])
        assert (line["door"], line["method"], line["path"], line["status"]) == (door, "GET", path, 200)


def test_request_id_generated_by_nginx_reaches_both_apps_logs(stack: Stack) -> None:
    with stack.client() as client:
        flask_id = client.get("/api/health").headers["X-Request-ID"]
        fastapi_id = client.get("/api/v2/health").headers["X-Request-ID"]
    # nginx's $request_id: 32 hex digits.
    assert len(flask_id) == len(fastapi_id) == 32 and flask_id != fastapi_id
    assert request_line(stack, "flask", flask_id)["door"] == "flask"
    assert request_line(stack, "fastapi", fastapi_id)["door"] == "fastapi"
    assert access_log_names(stack, flask_id) and access_log_names(stack, fastapi_id)


def test_metrics_answer_on_each_app_port_but_not_through_nginx(stack: Stack) -> None:
    # nginx merges slashes and decodes the path before choosing a location.
    for path in ("/metrics", "//metrics", "/%6Detrics", "/metrics?x=1"):
        response = httpx.get(stack.base + path, timeout=10)
        assert response.url.raw_path == path.encode()
        assert (response.status_code, response.json()["error"]) == (404, "Not found"), path
        assert "X-Served-By" not in response.headers, path  # answered by nginx itself
    for port in (stack.flask_port, stack.fastapi_port):
        response = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
        assert response.status_code == 200 and "http_requests_total" in response.text


# --- 2. cutover --------------------------------------------------------------------------------

def normalized(value: Any) -> Any:
    """A body without what differs between two runs of the same requests (ids, instants)."""
    if isinstance(value, dict):
        return {k: normalized(v) for k, v in value.items()
                if k not in {"id", "job_id", "created_at", "updated_at", "timestamp", "last_run_at"}}
    if isinstance(value, list):
        return [normalized(v) for v in value]
    return value


def write_scenario(client: httpx.Client, token: str, end_date: str) -> list[tuple[str, int, str, Any]]:
    """POST, PUT, DELETE with bodies and a multipart CSV upload, all under /api."""
    auth = bearer(token)
    calls: list[tuple[str, httpx.Response]] = []

    def call(name: str, response: httpx.Response) -> httpx.Response:
        calls.append((name, response))
        return response

    created = call("create", client.post("/api/jobs", headers=auth, json={
        "name": "proxy-job", "cron_expression": "0 3 * * *", "target_url": "https://hooks.example.com/x",
        "end_date": end_date, "pic_team": "proxy-team"}))
    job_id = created.json()["job"]["id"]
    call("update", client.put(f"/api/jobs/{job_id}", headers=auth, json={"cron_expression": "30 4 * * *"}))
    call("read", client.get(f"/api/jobs/{job_id}", headers=auth))
    call("validate-cron", client.post("/api/jobs/validate-cron", headers=auth, json={"expression": "*/5 * * * *"}))
    call("bad-json", client.post("/api/jobs", headers={**auth, "Content-Type": "application/json"}, content=b"{"))
    csv_body = f"{CSV_HEADER}\r\nproxy-bulk,0 1 * * *,https://hooks.example.com/y,{end_date},proxy-team\r\n"
    call("bulk-dry-run", client.post("/api/jobs/bulk-upload", headers=auth, data={"dry_run": "true"},
                                     files={"file": ("jobs.csv", csv_body.encode(), "text/csv")}))
    bulk = call("bulk-upload", client.post("/api/jobs/bulk-upload", headers=auth,
                                           files={"file": ("jobs.csv", csv_body.encode(), "text/csv")}))
    call("delete", client.delete(f"/api/jobs/{job_id}", headers=auth))
    for job in bulk.json().get("jobs", []):
        call("delete-bulk", client.delete(f"/api/jobs/{job['id']}", headers=auth))
    call("gone", client.get(f"/api/jobs/{job_id}", headers=auth))
    # Job ids differ per run, also inside messages ("No job found with ID: <id>").
    return [(name, r.status_code, r.headers.get("X-Served-By", "nginx"),
             normalized(json.loads(r.text.replace(job_id, "<job id>")))) for name, r in calls]


@pytest.fixture
def team_and_end_date(stack: Stack) -> str:
    with stack.client() as client:
        token = stack.token()
        client.post("/api/pic-teams", headers=bearer(token), json={"name": "Proxy Team", "slug": "proxy-team",
                                                                        "slack_handle": "@proxy"})
        end = client.post("/api/jobs/cron-preview", headers=bearer(token), json={"expression": "0 0 1 1 *", "count": 1})
    # A year ahead of the scheduler's today: the first fire of next January 1st is enough.
    return str(end.json()["next_runs"][0])[:10]


def test_cutover_serves_the_same_api_requests_by_fastapi_and_flask_can_stop(
    side_by_side_after: Stack, team_and_end_date: str,
) -> None:
    stack = side_by_side_after
    with stack.client() as client:
        before = write_scenario(client, stack.token(), team_and_end_date)
        stack.phase("cutover")
        after_cutover = write_scenario(client, stack.token(), team_and_end_date)
        stack.stop("flask")
        without_flask = write_scenario(client, stack.token(), team_and_end_date)
        health = client.get("/health")

    assert {door for _, _, door, _ in before} == {"flask"}
    assert {door for _, _, door, _ in after_cutover} == {"fastapi"}
    assert {door for _, _, door, _ in without_flask} == {"fastapi"}
    strip_door = [
        [(name, status, body) for name, status, _, body in run] for run in (before, after_cutover, without_flask)
    ]
    assert strip_door[0] == strip_door[1] == strip_door[2]
    assert [status for _, status, _, _ in before][:2] == [201, 200]
    assert health.headers["X-Served-By"] == "fastapi"


def test_cutover_moves_the_scheduler_to_the_fastapi_process(side_by_side_after: Stack) -> None:
    stack = side_by_side_after
    token = stack.token("/api/v2")

    def leader_pid() -> int | None:
        body = httpx.get(f"{stack.base}/api/v2/scheduler/status", headers=bearer(token), timeout=10).json()
        return body["leader"]["pid"] if body["leader"] else None

    def wait_leader(predicate: Any) -> int | None:
        deadline = time.monotonic() + 15
        pid = leader_pid()
        while not predicate(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
            pid = leader_pid()
        return pid

    # uvicorn and, with FASTAPI_WORKERS > 1, its workers.
    fastapi_pids = process_tree(stack.pid("fastapi"))
    assert wait_leader(lambda pid: pid is not None and pid not in fastapi_pids) not in {None, *fastapi_pids}
    stack.phase("cutover")
    assert wait_leader(lambda pid: pid in fastapi_pids) in fastapi_pids
    stack.phase("side-by-side")
    assert wait_leader(lambda pid: pid is not None and pid not in fastapi_pids) not in {None, *fastapi_pids}


# --- 3. rollback under load --------------------------------------------------------------------

def send_like_a_browser(client: httpx.Client, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """One request, retried once when a reused keep-alive connection closed before any response.

    A graceful reload makes nginx's old workers close their idle keep-alive connections; a
    request written at that instant gets no response at all (nothing was processed). Browsers
    resend such a request on a new connection, and so does this client; any answer that does
    arrive, and any second failure, still counts.
    """
    try:
        return client.request(method, url, **kwargs)
    except httpx.RemoteProtocolError:
        return client.request(method, url, **kwargs)


def test_client_loop_across_cutover_and_rollback_sees_no_failed_request(side_by_side_after: Stack) -> None:
    stack = side_by_side_after
    token = stack.token()
    failures: list[str] = []
    served: dict[str, set[str]] = {"/api": set(), "/api/v2": set()}
    count = 0
    stop = threading.Event()

    def client_loop() -> None:
        nonlocal count
        with stack.client() as client:
            while not stop.is_set() and count < 3000:
                for prefix in ("/api", "/api/v2"):
                    try:
                        response = send_like_a_browser(client, "POST", f"{prefix}/jobs/validate-cron",
                                                       headers=bearer(token), json={"expression": "0 9 * * 1"})
                        listing = send_like_a_browser(client, "GET", f"{prefix}/jobs", headers=bearer(token))
                    except httpx.HTTPError as exc:
                        failures.append(f"{prefix}: {exc!r}")
                        continue
                    count += 2
                    for r in (response, listing):
                        if r.status_code != 200:
                            failures.append(f"{r.request.method} {r.request.url.path}: {r.status_code} {r.text[:200]}")
                    served[prefix].add(response.headers.get("X-Served-By", "?"))

    loop = threading.Thread(target=client_loop)
    loop.start()
    try:
        time.sleep(0.5)
        stack.phase("cutover")
        time.sleep(0.5)
        stack.phase("side-by-side")
        time.sleep(0.5)
    finally:
        stop.set()
        loop.join(30)
    assert failures == []
    assert count > 50
    assert served == {"/api": {"flask", "fastapi"}, "/api/v2": {"fastapi"}}
    with stack.client() as client:
        assert client.get("/api/health").headers["X-Served-By"] == "flask"


# --- 4. an upstream down -----------------------------------------------------------------------

def test_stopped_upstream_is_answered_by_nginx_in_the_json_envelope(side_by_side_after: Stack) -> None:
    stack = side_by_side_after
    stack.stop("flask")
    with stack.client() as client:
        down = client.post("/api/jobs", json={"name": "x"}, headers={"X-Request-ID": "down-check-1"})
        probe = client.get("/health")
        still_up = client.get("/api/v2/health")
    assert down.status_code == 503
    assert down.headers["Content-Type"] == "application/json"
    assert down.json() == UNAVAILABLE
    assert down.headers["X-Request-ID"] == "down-check-1"
    assert (probe.status_code, probe.json()) == (503, UNAVAILABLE)
    assert (still_up.status_code, still_up.headers["X-Served-By"]) == (200, "fastapi")
    stack.start("flask")
    wait_for(f"{stack.base}/api/health", served_by="flask")

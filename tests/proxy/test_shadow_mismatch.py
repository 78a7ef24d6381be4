"""Issue 18, item 2: a FastAPI build that answers one route differently is caught by the shadow
reads on a real deployment, with the JSON path of the difference, and `phase cutover` refuses
until `--force` (or until an operator explains the difference)."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest

from src.config import PROJECT_ROOT
from src.deploy.supervisor import split_children
from tests.conftest import legacy_door
from tests.proxy.conftest import Stack, nginx_or_skip, wait_for

# Runs against the side-by-side deployment (gunicorn serves /api): needs the legacy door.
pytestmark = legacy_door

ALTERED = "GET /api/job-categories"
UNTOUCHED = "GET /api/jobs"


def start_altered_fastapi(stack: Stack) -> None:
    """uvicorn as the supervisor starts it, but serving tests.proxy.altered_fastapi."""
    child = next(c for c in split_children(stack.settings, stack.nginx) if c.label == "fastapi")
    argv = [("tests.proxy.altered_fastapi:create_app" if arg == "src.fastapi_app.main:create_app" else arg)
            for arg in child.argv]
    assert "tests.proxy.altered_fastapi:create_app" in argv
    with stack.log_path("fastapi").open("ab") as log:
        stack.processes["fastapi"] = subprocess.Popen(
            argv, cwd=PROJECT_ROOT, env=stack.env, stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True)
    wait_for(f"http://127.0.0.1:{stack.fastapi_port}/health", served_by="fastapi")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    deployment = Stack(tmp_path_factory.mktemp("shadow-mismatch"), nginx_or_skip())
    try:
        deployment.start_all()
        deployment.stop("fastapi")
        start_altered_fastapi(deployment)
        yield deployment
    finally:
        deployment.stop_all()


def report_rows(stack: Stack) -> dict[str, dict[str, Any]]:
    done = stack.cli("parity", "report", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    return {row["route"]: row for row in json.loads(done.stdout)["routes"]}


@pytest.fixture(scope="module")
def rows(stack: Stack) -> dict[str, dict[str, Any]]:
    """Both reads sent through /api one after the other, once their comparisons are stored."""
    headers = {"Authorization": f"Bearer {stack.token()}"}
    with stack.client() as client:
        for path in ("/api/job-categories", "/api/jobs"):
            assert client.get(path, headers=headers).status_code == 200
    deadline = time.monotonic() + 30
    while True:
        found = report_rows(stack)
        if all(found.get(route, {}).get("compared") for route in (ALTERED, UNTOUCHED)) or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


@pytest.fixture
def side_by_side_after(stack: Stack) -> Iterator[Stack]:
    yield stack
    assert stack.cli("phase", "side-by-side").returncode == 0


def test_mismatch_is_counted_with_its_json_path(rows: dict[str, dict[str, Any]]) -> None:
    altered = rows[ALTERED]
    assert altered["compared"] > 0 and altered["mismatched"] == altered["compared"]
    [difference] = altered["differences"]
    assert difference["paths"] == ["$.categories[*].slug"]
    sample = difference["samples"][0]["values"][0]
    assert sample["path"].startswith("$.categories[") and sample["path"].endswith("].slug")
    assert sample["v2"] == sample["legacy"].upper() != sample["legacy"]


def test_the_untouched_route_still_matches(rows: dict[str, dict[str, Any]]) -> None:
    assert rows[UNTOUCHED]["compared"] > 0 and rows[UNTOUCHED]["mismatched"] == 0


def test_cutover_refuses_listing_the_mismatch(stack: Stack, rows: dict[str, dict[str, Any]]) -> None:
    refused = stack.cli("phase", "cutover")
    assert refused.returncode == 1
    assert ALTERED in refused.stderr and "$.categories[*].slug" in refused.stderr
    assert "phase: side-by-side" in stack.cli("phase", "show").stdout


def test_cutover_with_force_goes_through(side_by_side_after: Stack, rows: dict[str, dict[str, Any]]) -> None:
    forced = side_by_side_after.cli("phase", "cutover", "--force")
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert "phase: cutover" in side_by_side_after.cli("phase", "show").stdout


def test_an_explained_difference_lets_cutover_through(side_by_side_after: Stack,
                                                      rows: dict[str, dict[str, Any]]) -> None:
    stack = side_by_side_after
    difference_id = str(rows[ALTERED]["differences"][0]["id"])
    explained = stack.cli("parity", "explain", difference_id, "--reason", "test build: slugs upper-cased on purpose")
    assert explained.returncode == 0, explained.stderr
    switched = stack.cli("phase", "cutover")
    assert switched.returncode == 0, switched.stdout + switched.stderr
    assert "no unexplained shadow-read mismatch" in switched.stdout

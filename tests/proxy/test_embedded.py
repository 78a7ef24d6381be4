"""Item 5: the embedded composition (src/asgi.py) passes the whole tests/api suite on both prefixes.

Runs the suite once more in a subprocess with API_TRANSPORT=embedded (tests/api/conftest.py then
serves /api and /api/v2 through one `src.asgi` app) and checks every collected case passed.
Without the legacy door, tests/api itself runs `/api` through src.asgi's cutover composition, so
that rerun is the legacy door's only; the rewrite's own checks below run everywhere. Needs no nginx.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from src.asgi import create_app
from src.config import PROJECT_ROOT, Settings
from tests.conftest import legacy_door


def pytest_run(*args: str, embedded: bool) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("TEST_DATABASE_URL", "API_TRANSPORT") and not k.startswith("PYTEST_XDIST")}
    if embedded:
        env["API_TRANSPORT"] = "embedded"
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args, "tests/api"],
                          cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=900)


@legacy_door
def test_embedded_composition_passes_the_api_suite_on_both_prefixes() -> None:
    collected = pytest_run("--collect-only", embedded=False)
    ids = [line for line in collected.stdout.splitlines() if line.startswith("tests/api/")]
    per_prefix = {prefix: sum(f"[{prefix}" in i and f"[{prefix}/v2" not in i for i in ids)
                  for prefix in ("/api", "/api/v2")}
    assert per_prefix["/api"] == per_prefix["/api/v2"] > 500, per_prefix

    run = pytest_run("-n", "2", embedded=True)
    summary = run.stdout.strip().splitlines()[-1]
    assert run.returncode == 0, run.stdout[-3000:]
    assert re.fullmatch(rf"=*\s*{len(ids)} passed.*", summary), summary


@pytest.fixture
def without_legacy_door(settings: Settings) -> Iterator[TestClient]:
    """The composition as it is once Phase 8 deleted the Flask door (even where Flask exists)."""
    with TestClient(create_app(settings, with_legacy_door=False), base_url="http://testserver") as client:
        yield client


def test_without_the_legacy_door_api_is_served_by_fastapi(without_legacy_door: TestClient) -> None:
    response = without_legacy_door.get("/api/health")
    assert (response.status_code, response.headers["X-Served-By"]) == (200, "fastapi")


def test_without_the_legacy_door_api_v2_is_served_unchanged(without_legacy_door: TestClient) -> None:
    response = without_legacy_door.get("/api/v2/health")
    assert (response.status_code, response.headers["X-Served-By"]) == (200, "fastapi")


def test_without_the_legacy_door_a_write_under_api_reaches_the_same_route_with_its_body(
    without_legacy_door: TestClient,
) -> None:
    body = {"username": "nobody", "password": "wrong-password"}
    legacy = without_legacy_door.post("/api/auth/login?x=1", json=body)
    new = without_legacy_door.post("/api/v2/auth/login?x=1", json=body)
    assert legacy.status_code == new.status_code == 401
    assert legacy.json() == new.json()

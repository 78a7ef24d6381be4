"""Item 5: the embedded composition (src/asgi.py) passes the whole tests/api suite on both prefixes.

Runs the suite once more in a subprocess with API_TRANSPORT=embedded (tests/api/conftest.py then
serves /api and /api/v2 through one `src.asgi` app) and checks every collected case passed.
Needs no nginx.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

from src.config import PROJECT_ROOT


def pytest_run(*args: str, embedded: bool) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("TEST_DATABASE_URL", "API_TRANSPORT") and not k.startswith("PYTEST_XDIST")}
    if embedded:
        env["API_TRANSPORT"] = "embedded"
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args, "tests/api"],
                          cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=900)


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

"""The /api/v2 half of tests/api passes in a process where Flask cannot be imported.

Evidence that deleting the legacy door at the end of the migration is safe: a `sitecustomize`
on PYTHONPATH installs an import blocker in the pytest process and in every xdist worker.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BLOCKER = '''
import os
import sys

if os.environ.get("BLOCK_FLASK_IMPORTS") == "1":
    class _FlaskBlocker:
        """Refuses `flask` and every `flask_*` package (Flask-SQLAlchemy, Flask-JWT-Extended, ...)."""

        def find_spec(self, name, path=None, target=None):
            top = name.partition(".")[0]
            if top == "flask" or top.startswith("flask_"):
                raise ImportError(f"{name} is blocked: the /api/v2 suite must not need Flask")
            return None

    sys.meta_path.insert(0, _FlaskBlocker())
'''
V2_ONLY = "api/v2"


@pytest.fixture
def blocked_env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "sitecustomize.py").write_text(BLOCKER, encoding="utf-8")
    env = {key: value for key, value in os.environ.items()
           if key not in {"TEST_DATABASE_URL", "PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT",
                          "PYTEST_CURRENT_TEST", "PYTEST_ADDOPTS"}}
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), str(ROOT)])
    env["BLOCK_FLASK_IMPORTS"] = "1"
    return env


def run(args: list[str], env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


def test_the_blocker_refuses_flask_and_its_extensions_but_not_fastapi(blocked_env: dict[str, str]) -> None:
    probe = (
        "import importlib\n"
        "for name in ('flask', 'flask_sqlalchemy', 'flask_jwt_extended', 'flask_cors', 'src.flask_app'):\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except ImportError:\n"
        "        print('blocked', name)\n"
        "import src.fastapi_app.main\n"
        "print('fastapi door imports')\n"
    )
    result = run(["-c", probe], blocked_env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n") == [
        "blocked flask", "blocked flask_sqlalchemy", "blocked flask_jwt_extended", "blocked flask_cors",
        "blocked src.flask_app", "fastapi door imports", "",
    ]


def v2_case_count() -> int:
    env = {key: value for key, value in os.environ.items() if key != "TEST_DATABASE_URL"}
    result = run(["-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "-k", V2_ONLY,
                  "tests/api"], env, timeout=120)
    match = re.search(r"(\d+)/\d+ tests collected", result.stdout)
    assert match, result.stdout[-2000:]
    return int(match.group(1))


def test_api_v2_suite_passes_without_flask(blocked_env: dict[str, str]) -> None:
    expected = v2_case_count()
    result = run(["-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2", "-k", V2_ONLY, "tests/api"],
                 blocked_env)
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    passed = re.search(r"(\d+) passed", summary)
    assert passed, summary
    assert not re.search(r"\d+ (failed|error|errors)\b", summary), summary
    assert expected > 0
    assert int(passed.group(1)) == expected, summary

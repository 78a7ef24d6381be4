"""`schemathesis run <document> --checks all` on both doors of a freshly started stack (issue 14).

    .venv/bin/python -m bench.fuzz.stack [--examples 40] [--seed N] [--doors v2,api] [--roles admin,viewer]

Starts the stack the way the README's run command does (`src.cli migrate`, `ensure-admin`,
`serve`: gunicorn, uvicorn and a private nginx) on free ports with a fresh SQLite file, writes the
served /api/v2/openapi.json and the same document with its paths moved to /api, then runs the
schemathesis CLI with every check on each door as admin and as viewer (a fresh token per case,
bench/fuzz/hooks.py). Prints cases and failures per door and per check, and the operations that
only ever answered 401/403; exits 1 on any failure. Runs in a network namespace of its own when
`unshare` can make one, so URLs the fuzzer invents (webhooks, test runs) reach nothing but loopback.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.fuzz.schemathesis_config import write_config  # noqa: E402  # after the sys.path line above
from src.config import Settings  # noqa: E402  # after the sys.path line above
from src.database.engines import create_sync_engine_from_settings, make_session_factory  # noqa: E402  # after the sys.path line above
from tests.conftest import Factory  # noqa: E402  # after the sys.path line above
from tests.parity.contract_table import v2_only_rows  # noqa: E402  # after the sys.path line above

ADMIN = {"username": "fuzz-admin", "email": "fuzz-admin@example.com", "password": "fuzz-admin-secret-1"}
PREFIXES = {"v2": "/api/v2", "api": "/api"}
NETNS_MARK = "FUZZ_IN_NETNS"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def reexec_in_network_namespace(seed: int) -> None:
    """Run this command again inside a network namespace holding only loopback (when possible)."""
    if os.environ.get(NETNS_MARK) or shutil.which("unshare") is None:
        return
    flags = ["-n"] if os.geteuid() == 0 else ["-r", "-n"]
    probe = subprocess.run(["unshare", *flags, "true"], capture_output=True)
    if probe.returncode != 0:
        print("unshare cannot make a network namespace here: fuzzed URLs are refused by the URL guard only")
        return
    argv = [sys.executable, "-m", "bench.fuzz.stack", *sys.argv[1:], "--seed", str(seed)]
    script = f"ip link set lo up && exec {' '.join(map(_quote, argv))}"
    os.execvpe("unshare", ["unshare", *flags, "sh", "-c", script], {**os.environ, NETNS_MARK: "1"})


def _quote(word: str) -> str:
    return "'" + word.replace("'", "'\\''") + "'"


class ServedStack:
    """`src.cli serve` on free ports with its own SQLite file and nginx prefix."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.http_port = free_port()
        self.base = f"http://127.0.0.1:{self.http_port}"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "FASTAPI_", "HTTP_"))},
            "DATABASE_URL": f"sqlite:///{root / 'fuzz.db'}",
            "DATA_DIR": str(root / "var"),
            "HTTP_PORT": str(self.http_port),
            "FLASK_PORT": str(free_port()),
            "FASTAPI_PORT": str(free_port()),
            "NGINX_PREFIX": str(root / "nginx"),
            "FLASK_ENV": "development",
            "SECRET_KEY": "fuzz-secret-key-of-at-least-32-bytes-long",
            "JWT_SECRET_KEY": "fuzz-jwt-secret-key-of-at-least-32-bytes",
            "ALLOW_PRIVATE_TARGETS": "false",
            "MAIL_ENABLED": "false",
            "GITHUB_API_BASE_URL": "http://127.0.0.1:9",
            "ADMIN_USERNAME": ADMIN["username"],
            "ADMIN_EMAIL": ADMIN["email"],
            "ADMIN_PASSWORD": ADMIN["password"],
            "PYTHONUNBUFFERED": "1",
        }
        self.env.pop("TEST_DATABASE_URL", None)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        for step in (["migrate"], ["ensure-admin"]):
            subprocess.run([sys.executable, "-m", "src.cli", *step], cwd=ROOT, env=self.env, check=True,
                           capture_output=True)
        with (self.root / "serve.log").open("ab") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "src.cli", "serve"], cwd=ROOT, env=self.env,
                                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if all(httpx.get(f"{self.base}{p}/health", timeout=2).status_code == 200 for p in PREFIXES.values()):
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the stack did not answer; see {self.root / 'serve.log'}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def fresh_caller(self, role: str, label: str) -> str:
        """A new active user of `role` for one run (an earlier run may have deleted or disabled its own)."""
        settings = Settings(_env_file=None, **{k: v for k, v in self.env.items() if k in Settings.model_fields})  # type: ignore[call-arg]  # pydantic-settings' _env_file is no declared field
        engine = create_sync_engine_from_settings(settings)
        try:
            with make_session_factory(engine)() as session:
                factory = Factory(session, settings)
                user = factory.user(role, username=f"fuzz-{label}", email=f"fuzz-{label}@example.com")
                return str(user.id)
        finally:
            engine.dispose()


def moved_document(document: dict[str, Any], prefix: str) -> dict[str, Any]:
    """The /api/v2 document with its paths under `prefix` (contract 12.1's v2-only paths left out)."""
    v2_only = set() if prefix == "/api/v2" else {"/api/v2" + path for _m, path, _r in v2_only_rows()}
    moved = dict(document)
    moved["paths"] = {prefix + path[len("/api/v2"):]: item for path, item in document["paths"].items()
                      if path not in v2_only}
    return moved


def run_door(stack: ServedStack, folder: Path, door: str, role: str, args: argparse.Namespace) -> dict[str, Any]:
    """One `schemathesis run` for a door and role, as a user made for it; where its reports are."""
    label = f"{door}-{role}"
    user_id = stack.fresh_caller(role, label)
    status_log = folder / f"{label}.statuses"
    report = folder / f"{label}.ndjson"
    command = [
        str(Path(sys.executable).with_name("schemathesis")), "--config-file", str(folder / "schemathesis.toml"),
        "--no-color", "run", str(folder / f"{door}.json"),
        "--url", stack.base, "--checks", "all", "--max-examples", str(args.examples), "--seed", str(args.seed),
        "--workers", str(args.workers), "--report", "ndjson", "--report-ndjson-path", str(report),
        "--continue-on-failure",
    ]
    env = {**stack.env, "SCHEMATHESIS_HOOKS": "bench.fuzz.hooks", "FUZZ_USER_ID": str(user_id),
           "FUZZ_STATUS_LOG": str(status_log), "PYTHONPATH": str(ROOT)}
    started = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    (folder / f"{label}.out").write_text(done.stdout + done.stderr)
    return {"label": label, "exit": done.returncode, "seconds": time.monotonic() - started,
            "output": done.stdout + done.stderr, "statuses": status_log, "report": report}


class RunFigures:
    """What one run's NDJSON report and status log say."""

    def __init__(self, result: dict[str, Any]) -> None:
        self.cases = 0
        self.checks: collections.Counter[str] = collections.Counter()
        self.failures: collections.Counter[str] = collections.Counter()
        self.failed: dict[tuple[str, str], str] = {}  # (operation, check) -> first failure's title
        self.errors: list[str] = []
        if result["report"].exists():
            for line in result["report"].read_text().splitlines():
                self._read(json.loads(line))
        self.statuses: dict[str, set[int]] = collections.defaultdict(set)
        if result["statuses"].exists():
            for line in result["statuses"].read_text().splitlines():
                method, path, status = json.loads(line)
                self.statuses[f"{method} {path}"].add(status)

    def _read(self, event: dict[str, Any]) -> None:
        finished = event.get("ScenarioFinished")
        if finished is not None:
            recorder = finished.get("recorder", {})
            self.cases += len(recorder.get("cases", {}))
            for check_list in recorder.get("checks", {}).values():
                for check in check_list:
                    self.checks[check["name"]] += 1
                    if check["status"] == "failure":
                        self.failures[check["name"]] += 1
                        failure = check.get("failure_info", {}).get("failure", {})
                        self.failed.setdefault((recorder.get("label", "?"), check["name"]),
                                               f"{failure.get('code', '')} {failure.get('title', '')}")
        error = event.get("NonFatalError") or event.get("FatalError")
        if error is not None:
            self.errors.append(str(error.get("label") or error.get("info", {}).get("title") or error)[:200])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=40, help="schemathesis --max-examples")
    parser.add_argument("--seed", type=int, default=random.randrange(1 << 30))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--doors", default="v2,api")
    parser.add_argument("--roles", default="admin,viewer")
    parser.add_argument("--keep", help="keep the documents, reports and logs in this folder")
    args = parser.parse_args()
    reexec_in_network_namespace(args.seed)

    folder = Path(args.keep or tempfile.mkdtemp(prefix="fuzz-stack-"))
    folder.mkdir(parents=True, exist_ok=True)
    stack = ServedStack(folder)
    print(f"seed {args.seed}, --max-examples {args.examples}, stack on {stack.base}, files in {folder}", flush=True)
    total_failures = 0
    try:
        stack.start()
        document = httpx.get(f"{stack.base}/api/v2/openapi.json", timeout=30).json()
        for door, prefix in PREFIXES.items():
            (folder / f"{door}.json").write_text(json.dumps(moved_document(document, prefix)))
        write_config(folder / "schemathesis.toml")
        for door in args.doors.split(","):
            door_cases, door_statuses = 0, collections.defaultdict(set)
            for role in args.roles.split(","):
                result = run_door(stack, folder, door, role, args)
                figures = RunFigures(result)
                door_cases += figures.cases
                for operation, seen in figures.statuses.items():
                    door_statuses[operation] |= seen
                failed = sum(figures.failures.values()) + len(figures.errors)
                total_failures += failed + (result["exit"] != 0 and failed == 0)
                print(f"{door:3} {role:6} cases {figures.cases:6}  check failures {sum(figures.failures.values()):5}  "
                      f"errors {len(figures.errors)}  exit {result['exit']}  {result['seconds']:6.0f} s", flush=True)
                for name in sorted(figures.checks):
                    print(f"    {name:30} run {figures.checks[name]:7}  failed {figures.failures[name]:5}")
                for (operation, check), title in sorted(figures.failed.items()):
                    print(f"    FAIL {operation} [{check}] {title}")
                for error in figures.errors:
                    print(f"    ERROR {error}")
            only_refused = sorted(op for op, seen in door_statuses.items() if seen <= {401, 403})
            print(f"{door:3} total cases {door_cases}; operations answering only 401/403: {only_refused or 'none'}",
                  flush=True)
            total_failures += len(only_refused)
    finally:
        stack.stop()
    print(f"total failures {total_failures}")
    return 1 if total_failures else 0


if __name__ == "__main__":
    sys.exit(main())

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
from tests.parity.contract_table import v2_only_rows  # noqa: E402  # after the sys.path line above

ADMIN = {"username": "fuzz-admin", "email": "fuzz-admin@example.com", "password": "fuzz-admin-secret-1"}
VIEWER = {"username": "fuzz-viewer", "email": "fuzz-viewer@example.com", "password": "fuzz-viewer-secret-1"}
PREFIXES = {"v2": "/api/v2", "api": "/api"}
NETNS_MARK = "FUZZ_IN_NETNS"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def reexec_in_network_namespace() -> None:
    """Run this command again inside a network namespace holding only loopback (when possible)."""
    if os.environ.get(NETNS_MARK) or shutil.which("unshare") is None:
        return
    flags = ["-n"] if os.geteuid() == 0 else ["-r", "-n"]
    probe = subprocess.run(["unshare", *flags, "true"], capture_output=True)
    if probe.returncode != 0:
        print("unshare cannot make a network namespace here: fuzzed URLs are refused by the URL guard only")
        return
    script = f"ip link set lo up && exec {' '.join(map(_quote, [sys.executable, '-m', 'bench.fuzz.stack', *sys.argv[1:]]))}"
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

    def user_id(self, credentials: dict[str, str]) -> str:
        answer = httpx.post(f"{self.base}/api/v2/auth/login", timeout=30,
                            json={"username": credentials["username"], "password": credentials["password"]})
        answer.raise_for_status()
        return str(answer.json()["user"]["id"])

    def create_viewer(self) -> None:
        token = httpx.post(f"{self.base}/api/v2/auth/login", timeout=30,
                           json={"username": ADMIN["username"], "password": ADMIN["password"]}).json()["access_token"]
        answer = httpx.post(f"{self.base}/api/v2/auth/register", timeout=30, json={**VIEWER, "role": "viewer"},
                            headers={"Authorization": f"Bearer {token}"})
        answer.raise_for_status()


def moved_document(document: dict[str, Any], prefix: str) -> dict[str, Any]:
    """The /api/v2 document with its paths under `prefix` (contract 12.1's v2-only paths left out)."""
    v2_only = set() if prefix == "/api/v2" else {"/api/v2" + path for _m, path, _r in v2_only_rows()}
    moved = dict(document)
    moved["paths"] = {prefix + path[len("/api/v2"):]: item for path, item in document["paths"].items()
                      if path not in v2_only}
    return moved


def run_door(stack: ServedStack, folder: Path, door: str, role: str, user_id: str, args: argparse.Namespace) -> dict[str, Any]:
    """One `schemathesis run` for a door and role; its JSON report's figures."""
    label = f"{door}-{role}"
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


def summarize(result: dict[str, Any]) -> tuple[int, collections.Counter[str], collections.Counter[str], dict[str, set[int]]]:
    """Cases, checks run, check failures, statuses answered per operation."""
    cases, checks, failures = 0, collections.Counter[str](), collections.Counter[str]()
    if result["report"].exists():
        for line in result["report"].read_text().splitlines():
            event = json.loads(line)
            for name, body in event.items():
                if name == "ScenarioFinished":
                    for case in body.get("recorder", {}).get("cases", {}).values():
                        del case
                    for check_list in body.get("recorder", {}).get("checks", {}).values():
                        for check in check_list:
                            checks[check["name"]] += 1
                            if check["status"] == "FAILURE":
                                failures[check["name"]] += 1
                    cases += len(body.get("recorder", {}).get("cases", {}))
    statuses: dict[str, set[int]] = collections.defaultdict(set)
    if result["statuses"].exists():
        for line in result["statuses"].read_text().splitlines():
            method, path, status = json.loads(line)
            statuses[f"{method} {path}"].add(status)
    return cases, checks, failures, statuses


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=40, help="schemathesis --max-examples")
    parser.add_argument("--seed", type=int, default=random.randrange(1 << 30))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--doors", default="v2,api")
    parser.add_argument("--roles", default="admin,viewer")
    parser.add_argument("--keep", help="keep the documents, reports and logs in this folder")
    args = parser.parse_args()
    reexec_in_network_namespace()

    folder = Path(args.keep or tempfile.mkdtemp(prefix="fuzz-stack-"))
    folder.mkdir(parents=True, exist_ok=True)
    stack = ServedStack(folder)
    print(f"seed {args.seed}, --max-examples {args.examples}, stack on {stack.base}, files in {folder}", flush=True)
    total_failures = 0
    try:
        stack.start()
        stack.create_viewer()
        document = httpx.get(f"{stack.base}/api/v2/openapi.json", timeout=30).json()
        for door, prefix in PREFIXES.items():
            (folder / f"{door}.json").write_text(json.dumps(moved_document(document, prefix)))
        write_config(folder / "schemathesis.toml")
        users = {"admin": stack.user_id(ADMIN), "viewer": stack.user_id(VIEWER)}
        for door in args.doors.split(","):
            door_cases, door_statuses = 0, collections.defaultdict(set)
            for role in args.roles.split(","):
                result = run_door(stack, folder, door, role, users[role], args)
                cases, checks, failures, statuses = summarize(result)
                door_cases += cases
                for operation, seen in statuses.items():
                    door_statuses[operation] |= seen
                failed = sum(failures.values())
                total_failures += failed + (result["exit"] != 0 and failed == 0)
                print(f"{door:3} {role:6} cases {cases:6}  check failures {failed:4}  exit {result['exit']}  "
                      f"{result['seconds']:6.0f} s", flush=True)
                for name in sorted(checks):
                    print(f"    {name:30} run {checks[name]:7}  failed {failures[name]:5}")
                if result["exit"] != 0:
                    print("    " + "\n    ".join(_failure_lines(result["output"])))
            only_refused = sorted(op for op, seen in door_statuses.items() if seen <= {401, 403})
            print(f"{door:3} total cases {door_cases}; operations answering only 401/403: {only_refused or 'none'}")
            total_failures += len(only_refused)
    finally:
        stack.stop()
    print(f"total failures {total_failures}")
    return 1 if total_failures else 0


def _failure_lines(output: str) -> list[str]:
    """The CLI's failure section (from its FAILURES header on), capped."""
    lines = output.splitlines()
    start = next((i for i, line in enumerate(lines) if "FAILURES" in line), max(0, len(lines) - 40))
    return lines[start:start + 400]


if __name__ == "__main__":
    sys.exit(main())

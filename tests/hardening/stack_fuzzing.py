"""`schemathesis run <document> --checks all` against both doors of a served stack (issue 14).

The stack is started the way the README's run command does (`src.cli migrate`, `ensure-admin`,
`serve`: gunicorn, uvicorn and a private nginx) on free ports with a fresh SQLite file. The served
/api/v2/openapi.json and the same document with its paths moved to /api are run with every check,
as admin and as viewer; each run's caller is a user made for it, with a fresh token per case
(fuzz_hooks.py), so a case that logs out or edits its own account spoils no later case or run.
Shared by tests/proxy/test_fuzz_stack.py (bounded, CI) and bench/fuzz/stack.py (the long run).
"""

from __future__ import annotations

import collections
import fcntl
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import delete, update

from src.config import PROJECT_ROOT, Settings
from src.core.passwords import hash_password
from src.database.engines import create_sync_engine_from_settings, make_session_factory
from src.models import LoginFailure, User
from tests.conftest import Factory
from tests.hardening.fuzz_contract import PHASES, is_request_side, schemathesis_toml
from tests.parity.contract_table import v2_only_rows
from tests.proxy.conftest import free_port

# The first admin logs in with the document's own login example (src/fastapi_app/request_examples.py),
# so the login operations answer 200 to it, not only 401 to invented credentials.
ADMIN = {"username": "admin", "email": "admin@example.com", "password": "correct horse battery"}
PREFIXES = {"v2": "/api/v2", "api": "/api"}
REFUSED = {401, 403}
# Linux's interface-flag ioctls (<linux/sockios.h>, <net/if.h>).
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1


class ServedStack:
    """`python -m src.cli serve` on free ports with its own SQLite file and nginx prefix."""

    def __init__(self, root: Path, nginx_binary: str | None = None) -> None:
        self.root = root
        self.http_port = free_port()
        self.base = f"http://127.0.0.1:{self.http_port}"
        self.env = {
            **{k: v for k, v in os.environ.items() if k not in Settings.model_fields},
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
        if nginx_binary:
            self.env["NGINX_BIN"] = nginx_binary
        self.env.pop("TEST_DATABASE_URL", None)
        self.settings = Settings(_env_file=None, **{k: v for k, v in self.env.items() if k in Settings.model_fields})  # type: ignore[call-arg]  # pydantic-settings' _env_file is no declared field
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        for step in (["migrate"], ["ensure-admin"]):
            subprocess.run([sys.executable, "-m", "src.cli", *step], cwd=PROJECT_ROOT, env=self.env, check=True,
                           capture_output=True)
        with (self.root / "serve.log").open("ab") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "src.cli", "serve"], cwd=PROJECT_ROOT,
                                            env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
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

    def fresh_caller(self, role: str) -> str:
        """A new active user of `role` (an earlier run may have deleted or disabled its own).

        The example login's admin is made usable again too: an earlier run may have changed its
        password, disabled it, locked it out with invented passwords or deleted it (an admin case
        deleting a listed user), and the login operations would then only ever answer 401.
        """
        engine = create_sync_engine_from_settings(self.settings)
        try:
            with make_session_factory(engine)() as session:
                factory = Factory(session, self.settings)
                restored = session.execute(update(User).where(User.username == ADMIN["username"]).values(
                    password_hash=hash_password(ADMIN["password"]), is_active=True))
                if restored.rowcount == 0:  # type: ignore[attr-defined]  # an UPDATE's CursorResult
                    # Its email may have been taken meanwhile; the example logs in by username.
                    factory.user("admin", username=ADMIN["username"], password=ADMIN["password"],
                                 email=f"admin-{uuid.uuid4().hex[:8]}@example.com")
                session.execute(delete(LoginFailure))
                session.commit()
                name = f"fuzz-{role}-{uuid.uuid4().hex[:8]}"
                return str(factory.user(role, username=name, email=f"{name}@example.com").id)
        finally:
            engine.dispose()

    def documents(self, folder: Path) -> None:
        """The served document per door (`<door>.json`) and its schemathesis config (`<door>.toml`)."""
        document = httpx.get(f"{self.base}/api/v2/openapi.json", timeout=30).json()
        for door, prefix in PREFIXES.items():
            (folder / f"{door}.json").write_text(json.dumps(moved_document(document, prefix)))
            (folder / f"{door}.toml").write_text(schemathesis_toml(prefix))


def bring_loopback_up() -> None:
    """Set `lo` up when it is down (a fresh network namespace's is), without needing iproute2."""
    request = struct.pack("16sH14s", b"lo", 0, b"")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        flags = struct.unpack("16sH14s", fcntl.ioctl(probe, SIOCGIFFLAGS, request))[1]
        if not flags & IFF_UP:
            fcntl.ioctl(probe, SIOCSIFFLAGS, struct.pack("16sH14s", b"lo", flags | IFF_UP, b""))


def moved_document(document: dict[str, Any], prefix: str) -> dict[str, Any]:
    """The /api/v2 document with its paths under `prefix` (contract 12.1's v2-only paths left out)."""
    v2_only = set() if prefix == "/api/v2" else {"/api/v2" + path for _m, path, _r in v2_only_rows()}
    moved = dict(document)
    moved["paths"] = {prefix + path[len("/api/v2"):]: item for path, item in document["paths"].items()
                      if path not in v2_only}
    return moved


@dataclass
class RunFigures:
    """One `schemathesis run`: cases, checks run and failed, statuses answered per operation."""

    door: str
    role: str
    exit_code: int = 0
    seconds: float = 0.0
    cases: int = 0
    checks: collections.Counter[str] = field(default_factory=collections.Counter)
    failures: collections.Counter[str] = field(default_factory=collections.Counter)
    failed: dict[tuple[str, str], str] = field(default_factory=dict)  # (operation, check) -> code and title
    errors: list[str] = field(default_factory=list)
    statuses: dict[str, set[int]] = field(default_factory=lambda: collections.defaultdict(set))

    def read(self, report: Path, status_log: Path) -> None:
        if report.exists():
            for line in report.read_text().splitlines():
                self._event(json.loads(line))
        if status_log.exists():
            for line in status_log.read_text().splitlines():
                method, path, status = json.loads(line)
                self.statuses[f"{method} {path}"].add(status)

    def _event(self, event: dict[str, Any]) -> None:
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
            self.errors.append(" ".join(str(error.get("label") or error.get("info") or error).split())[:300])

    def request_side(self) -> dict[tuple[str, str], str]:
        prefix = PREFIXES[self.door]
        return {key: title for key, title in self.failed.items() if is_request_side(*key, prefix)}

    def other_failures(self) -> dict[tuple[str, str], str]:
        prefix = PREFIXES[self.door]
        return {key: title for key, title in self.failed.items() if not is_request_side(*key, prefix)}


def run_schemathesis(stack: ServedStack, folder: Path, door: str, role: str, *, examples: int, seed: int,
                     workers: int = 2, max_time: int | None = None) -> RunFigures:
    """`schemathesis run <door>.json --checks all` as a fresh `role` user; its figures."""
    label = f"{door}-{role}"
    status_log, report = folder / f"{label}.statuses", folder / f"{label}.ndjson"
    command = [
        str(Path(sys.executable).with_name("schemathesis")), "--config-file", str(folder / f"{door}.toml"),
        "--no-color", "run", str(folder / f"{door}.json"), "--url", stack.base, "--checks", "all",
        "--phases", PHASES, "--max-examples", str(examples), "--seed", str(seed), "--workers", str(workers),
        "--report", "ndjson", "--report-ndjson-path", str(report), "--continue-on-failure",
        # A loaded machine (CI, helpers sharing two cores) answers slower than the 10 s default.
        "--request-timeout", "60",
        *(["--max-time", str(max_time)] if max_time else []),
    ]
    env = {**stack.env, "SCHEMATHESIS_HOOKS": "tests.hardening.fuzz_hooks", "FUZZ_USER_ID": stack.fresh_caller(role),
           "FUZZ_ROLE": role,
           "FUZZ_STATUS_LOG": str(status_log), "PYTHONPATH": str(PROJECT_ROOT)}
    started = time.monotonic()
    done = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    (folder / f"{label}.out").write_text(done.stdout + done.stderr)
    figures = RunFigures(door, role, exit_code=done.returncode, seconds=time.monotonic() - started)
    figures.read(report, status_log)
    return figures


def only_refused(runs: list[RunFigures]) -> list[str]:
    """Operations that answered nothing but 401/403 over all the runs of one door."""
    statuses: dict[str, set[int]] = collections.defaultdict(set)
    for run in runs:
        for operation, seen in run.statuses.items():
            statuses[operation] |= seen
    return sorted(operation for operation, seen in statuses.items() if seen <= REFUSED)


def main() -> int:
    """`python -m tests.hardening.stack_fuzzing FOLDER EXAMPLES SEED`: every run, figures to FOLDER/figures.json.

    tests/proxy/test_fuzz_stack.py runs this inside a network namespace holding only loopback.
    """
    from src.deploy.nginx import find_nginx

    folder, examples, seed = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    bring_loopback_up()
    stack = ServedStack(folder, find_nginx())
    figures: dict[str, Any] = {}
    try:
        stack.start()
        stack.documents(folder)
        for door in PREFIXES:
            runs = [run_schemathesis(stack, folder, door, role, examples=examples, seed=seed, workers=1)
                    for role in ("admin", "viewer")]
            figures[door] = {
                "only_refused": only_refused(runs),
                "runs": [{"role": run.role, "exit": run.exit_code, "cases": run.cases, "checks": sorted(run.checks),
                          "errors": run.errors,
                          "failures": [f"{op} [{check}] {why}" for (op, check), why in run.other_failures().items()],
                          "request_side": [f"{op} [{check}]" for op, check in run.request_side()]}
                         for run in runs],
            }
    finally:
        stack.stop()
    (folder / "figures.json").write_text(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

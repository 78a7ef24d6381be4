"""The stack as deployed, for the hostile probes: `python -m src.cli serve` (nginx, gunicorn,
uvicorn) on free loopback ports over a fresh SQLite file or PostgreSQL database, an admin, and a
webhook target that answers every POST after a fixed delay (bench/api/slow_receiver.py).
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.api.stack import Stack, bench_environment, free_port
from src.config import PROJECT_ROOT

ADMIN = {"username": "hostile-admin", "email": "hostile-admin@example.com", "password": "hostile-secret-123"}
PREFIXES = {"flask": "/api", "fastapi": "/api/v2"}
SLOW_TARGET_SECONDS = 8.0


@dataclass
class HostileStack(Stack):
    """bench/api's Stack without the hello ceiling; `env` is the deployment's environment."""

    env: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def start(self) -> None:
        self.ports = {name: free_port() for name in ("http", "flask", "fastapi", "receiver")}
        self.env = {**bench_environment(self.database_url, self.ports, self.folder / "nginx"),
                    "ADMIN_USERNAME": ADMIN["username"], "ADMIN_EMAIL": ADMIN["email"],
                    "ADMIN_PASSWORD": ADMIN["password"]}
        for command in ("migrate", "ensure-admin"):
            done = self.cli(command)
            if done.returncode != 0:
                raise RuntimeError(f"src.cli {command} failed:\n{done.stdout}{done.stderr}")
        try:
            self._spawn("serve", [sys.executable, "-m", "src.cli", "serve"], self.env)
            self._spawn("receiver", [sys.executable, "-m", "bench.api.slow_receiver",
                                     "--port", str(self.ports["receiver"]), "--delay", str(SLOW_TARGET_SECONDS)],
                        self.env)
            self._wait_until_up()
        except BaseException:
            self.stop()
            raise
        self.renew_tokens()

    def renew_tokens(self) -> None:
        """Fresh admin tokens (a probe may have revoked or outlived the previous ones)."""
        for door, prefix in PREFIXES.items():
            self.tokens[door] = self.login(prefix, ADMIN["username"], ADMIN["password"])

    def _ready_probes(self) -> dict[str, str | None]:
        return {f"{self.url}/api/health": "flask", f"{self.url}/api/v2/health": "fastapi",
                f"{self.receiver_url}/count": None}

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "src.cli", *args], cwd=PROJECT_ROOT, env=self.env,
                              capture_output=True, text=True, timeout=120)

    def login(self, prefix: str, username: str, password: str) -> str:
        response = httpx.post(f"{self.url}{prefix}/auth/login", json={"username": username, "password": password},
                              timeout=30)
        response.raise_for_status()
        return str(response.json()["access_token"])

    def auth(self, door: str = "fastapi") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[door]}"}

    def new_client(self, local_address: str | None = None) -> httpx.Client:
        """A client of the stack's nginx; `local_address` (127.0.0.x) makes it another client address."""
        transport = httpx.HTTPTransport(local_address=local_address) if local_address else None
        return httpx.Client(base_url=self.url, timeout=60, transport=transport)


def start_stack(folder: Path, database_url: str) -> HostileStack:
    stack = HostileStack(folder=folder, database_url=database_url)
    stack.start()
    return stack

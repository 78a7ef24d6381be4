"""A private PostgreSQL cluster for fault tests: its own data folder and port, stopped and started
at will. The shared server on 5432 is never touched.

Binaries come from /usr/lib/postgresql/*/bin (or PG_BIN_DIR). As root, initdb refuses to run, so
the cluster runs as the `postgres` OS user in a folder it owns. Missing binaries skip the test,
or fail it when REQUIRE_POSTGRES=1 (CI).
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import pg_databases
from tests.door_servers import free_port

START_TIMEOUT_SECONDS = 30


def binaries() -> Path | None:
    """The folder with initdb and pg_ctl (newest installed version), or None."""
    candidates = [Path(os.environ["PG_BIN_DIR"])] if os.environ.get("PG_BIN_DIR") else []
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: _version(p.parent.name),
                         reverse=True)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).parent
    return None


def _version(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split(".") if part.isdigit())


def binaries_or_skip() -> Path:
    folder = binaries()
    if folder is None:
        reason = "PostgreSQL server binaries (initdb, pg_ctl) not found in /usr/lib/postgresql/*/bin or PATH"
        if pg_databases.postgres_required():
            pytest.fail(f"REQUIRE_POSTGRES=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    return folder


def _run_as_or_skip() -> str | None:
    """The OS user to run the cluster as: `postgres` when we are root (initdb refuses root)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        reason = "running as root and there is no `postgres` OS user to run a private cluster as"
        if pg_databases.postgres_required():
            pytest.fail(f"REQUIRE_POSTGRES=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    return "postgres"


@dataclass
class PrivateCluster:
    """One initdb'd cluster on 127.0.0.1:`port`, trust authentication, user `postgres`."""

    bin_dir: Path
    folder: Path
    port: int
    run_as: str | None

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def log(self) -> Path:
        return self.folder / "server.log"

    @property
    def server_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _pg(self, *args: str, timeout: float = START_TIMEOUT_SECONDS + 10) -> None:
        result = subprocess.run(
            [str(self.bin_dir / args[0]), *args[1:]], user=self.run_as, cwd=self.folder,
            capture_output=True, text=True, timeout=timeout, check=False,
        )
        if result.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{args[0]} {args[1:]} failed: {result.stdout}{result.stderr}\n{log}")

    def init(self) -> None:
        # --no-sync and fsync=off: a throw-away cluster, durability does not matter.
        self._pg("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")

    def start(self) -> None:
        """Start (or restart after a stop) on the same port; returns once it accepts connections."""
        options = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c full_page_writes=off -c synchronous_commit=off")
        self._pg("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", str(START_TIMEOUT_SECONDS),
                 "-o", options, "start")

    def stop(self, mode: str = "immediate") -> None:
        """Stop now: `immediate` drops every connection at once (like a crash), `fast` cleanly."""
        self._pg("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", str(START_TIMEOUT_SECONDS), "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def destroy(self) -> None:
        if self.running():
            with suppress(RuntimeError, subprocess.TimeoutExpired):
                self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


@contextmanager
def private_cluster() -> Iterator[PrivateCluster]:
    """A started private cluster, destroyed (stopped, folder removed) afterwards."""
    bin_dir = binaries_or_skip()
    run_as = _run_as_or_skip()
    # Not under pytest's tmp_path: as root that folder is private to root, and the cluster runs
    # as `postgres`. The socket folder is ours too, so the shared server's socket is never used.
    folder = Path(tempfile.mkdtemp(prefix="cronjobs-private-pg-"))
    if run_as is not None:
        shutil.chown(folder, user=run_as)
    cluster = PrivateCluster(bin_dir, folder, free_port(), run_as)
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()

"""The private nginx instance: render a phase's config from settings, check it, reload it.

The instance lives in its own prefix directory (default `var/nginx`, or `NGINX_PREFIX`):
`conf/nginx.conf`, `logs/{nginx.pid,error.log,access.log}`, `temp/`. It never uses the system
service's files, so it runs next to a Debian nginx and needs no root.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

from src.config import PROJECT_ROOT, Settings
from src.shadow import intake

TEMPLATES_DIR = PROJECT_ROOT / "deploy" / "nginx"
# Multipart framing and form fields around the largest accepted body.
BODY_OVERHEAD_BYTES = 64 * 1024
# Manual execute is synchronous: GitHub dispatch retries within OUTBOUND_TIMEOUT_SECONDS each.
MIN_PROXY_READ_TIMEOUT_SECONDS = 60


class NginxError(RuntimeError):
    """nginx refused a config or a signal; the message carries its output."""


def find_nginx() -> str | None:
    """The nginx binary: `NGINX_BIN`, else PATH, else Debian's /usr/sbin/nginx."""
    configured = os.environ.get("NGINX_BIN")
    if configured:
        return configured if Path(configured).exists() else None
    found = shutil.which("nginx")
    if found:
        return found
    return "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None


def default_prefix() -> Path:
    return Path(os.environ.get("NGINX_PREFIX") or PROJECT_ROOT / "var" / "nginx").resolve()


def render(phase: str, settings: Settings, http_host: str | None = None) -> str:
    """The nginx config of `phase` with this deployment's ports and limits filled in."""
    # Every phase answers nginx's own errors alike, so that block is written once.
    error_pages = (TEMPLATES_DIR / "error-pages.conf.snippet").read_text().rstrip("\n")
    template = (TEMPLATES_DIR / f"{phase}.conf.template").read_text().replace("{{ERROR_PAGES}}", error_pages)
    body_limit = max(settings.BULK_UPLOAD_MAX_BYTES, settings.MAX_JSON_BODY_BYTES) + BODY_OVERHEAD_BYTES
    # Several GitHub attempts of OUTBOUND_TIMEOUT_SECONDS each, and never under a minute.
    read_timeout = max(MIN_PROXY_READ_TIMEOUT_SECONDS, int(settings.OUTBOUND_TIMEOUT_SECONDS * 4) + 10)
    values = {
        "HTTP_HOST": http_host or os.environ.get("HTTP_HOST") or "127.0.0.1",
        "HTTP_PORT": settings.HTTP_PORT,
        "FLASK_PORT": settings.FLASK_PORT,
        "FASTAPI_PORT": settings.FASTAPI_PORT,
        "CLIENT_MAX_BODY_SIZE": body_limit,
        "PROXY_READ_TIMEOUT": read_timeout,
        # Only the side-by-side template has these placeholders: in cutover both prefixes are FastAPI.
        **shadow_read_config(settings),
    }
    for name, value in values.items():
        template = template.replace("{{" + name + "}}", str(value))
    if "{{" in template:
        raise ValueError(f"unrendered placeholder left in {phase}.conf.template")
    return template


# Reads sent while nginx serves others, so a deployment that is never idle still gathers some
# evidence; the comparer compares at most one of them a second (src/shadow/comparer.py).
SHADOW_BUSY_PERCENT = "1%"


def shadow_sample_percent(rate: float) -> str | None:
    """SHADOW_SAMPLE_RATE as split_clients writes it (`12.5%`, 2 decimals at most); None for all."""
    percent = round(rate * 100, 2)
    return None if percent >= 100 else f"{percent:g}%"


def shadow_read_config(settings: Settings) -> dict[str, str]:
    """The side-by-side config's shadow-read lines: which reads nginx hands to the comparer, and how.

    A GET/HEAD under /api/ that the sample takes (split_clients on nginx's own random $request_id)
    is written after its answer as one syslog datagram to 127.0.0.1:FASTAPI_PORT/udp, where the
    FastAPI process's comparer listens (src/shadow/intake.py), when nginx serves no other request
    then (replays would compete with clients for the doors), else for SHADOW_BUSY_PERCENT of
    them (evidence on a deployment that is never idle). Writes are never sent.
    """
    percent = shadow_sample_percent(settings.SHADOW_SAMPLE_RATE)
    if not settings.SHADOW_READS or percent == "0%":
        reason = "SHADOW_READS=off" if not settings.SHADOW_READS else "SHADOW_SAMPLE_RATE=0"
        return {"SHADOW_READ_SELECTION": f"# {reason}: no read is handed to the comparer",
                "SHADOW_READ_LOG": f"# {reason}: no shadow-read datagram"}
    sampled = "1"  # SHADOW_SAMPLE_RATE 1: every read
    blocks = [_nginx_map("$request_method", "$shadow_read_method", {"GET": "1", "HEAD": "1", "default": "0"}),
              # $connections_writing, read as the request is logged: the other requests nginx serves.
              _nginx_map("$connections_writing", "$shadow_read_idle", {"0": "1", "default": "0"}),
              _nginx_map('"busy${request_id}"', "$shadow_read_busy_sample",
                         {SHADOW_BUSY_PERCENT: "1", "*": "0"}, directive="split_clients")]
    if percent is not None:
        sampled = "${shadow_read_sampled}"
        blocks.append(_nginx_map('"${request_id}"', "$shadow_read_sampled", {percent: "1", "*": "0"},
                                 directive="split_clients"))
    # A read, sampled, and nginx idle or the busy sample taking it.
    blocks.append(_nginx_map(f'"${{shadow_read_method}}{sampled}${{shadow_read_idle}}${{shadow_read_busy_sample}}"',
                             "$shadow_read", {"~^11(1.|01)$": "1", "default": "0"}))
    target = f"syslog:server=127.0.0.1:{settings.FASTAPI_PORT},tag={intake.SYSLOG_TAG},nohostname"
    return {
        "SHADOW_READ_SELECTION": "\n    ".join([*blocks, intake.nginx_log_format()]),
        "SHADOW_READ_LOG": f"access_log {target} {intake.LOG_FORMAT_NAME} if=$shadow_read;",
    }


def _nginx_map(source: str, variable: str, values: dict[str, str], directive: str = "map") -> str:
    lines = "".join(f"\n        {key} {value};" for key, value in values.items())
    return f"{directive} {source} {variable} {{{lines}\n    }}"


@dataclass(frozen=True)
class NginxInstance:
    """One private nginx: its binary and prefix directory."""

    binary: str
    prefix: Path

    @property
    def conf_path(self) -> Path:
        return self.prefix / "conf" / "nginx.conf"

    @property
    def pid_path(self) -> Path:
        return self.prefix / "logs" / "nginx.pid"

    @property
    def error_log(self) -> Path:
        return self.prefix / "logs" / "error.log"

    def command(self, *args: str, conf: Path | None = None) -> list[str]:
        # -e: the startup error log goes under the prefix too, not /var/log/nginx.
        return [self.binary, "-p", f"{self.prefix}/", "-c", str(conf or self.conf_path),
                "-e", str(self.error_log), *args]

    def foreground_command(self) -> list[str]:
        # In the foreground the error log also goes to stderr, so the supervisor labels it.
        return self.command("-g", "daemon off; error_log stderr notice;")

    def prepare(self) -> None:
        for sub in ("conf", "logs", "temp"):
            (self.prefix / sub).mkdir(parents=True, exist_ok=True)

    def install(self, config_text: str) -> Path:
        """Check a config with `nginx -t`, then put it in place atomically; raises NginxError."""
        self.prepare()
        candidate = self.conf_path.with_name("nginx.conf.next")
        candidate.write_text(config_text)
        checked = subprocess.run(self.command("-t", "-q", conf=candidate), capture_output=True, text=True)
        if checked.returncode != 0:
            candidate.unlink(missing_ok=True)
            raise NginxError(f"nginx -t refused the config:\n{checked.stderr.strip()}")
        os.replace(candidate, self.conf_path)
        return self.conf_path

    def running_pid(self) -> int | None:
        """The master's pid when it is alive, else None."""
        try:
            pid = int(self.pid_path.read_text().strip())
            os.kill(pid, 0)
        except (OSError, ValueError):
            return None
        return pid

    def reload(self) -> None:
        """Graceful reload: new workers take the new config, old ones finish their requests."""
        done = subprocess.run(self.command("-s", "reload"), capture_output=True, text=True)
        if done.returncode != 0:
            raise NginxError(f"nginx -s reload failed:\n{done.stderr.strip()}")

    def stop_gracefully(self) -> None:
        pid = self.running_pid()
        if pid is not None:
            os.kill(pid, signal.SIGQUIT)

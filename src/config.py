"""One Settings object for every process, read from the environment and `.env`."""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
from functools import cached_property
from importlib.util import find_spec
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The secret earlier versions defaulted to: published, so treated as unset wherever it appears.
DEFAULT_SECRET = "dev-secret-key-please-change-in-production"
DEFAULT_SQLITE_URL = f"sqlite:///{PROJECT_ROOT / 'var' / 'cronjobs.db'}"
DEFAULT_DATA_DIR = PROJECT_ROOT / "var"
GENERATED_SECRETS_FILE = "secrets.json"


LEGACY_DOOR_MODULES = ("src.flask_app", "flask")


def legacy_door_installed() -> bool:
    """Whether the legacy Flask door can run here: its package and Flask both importable.

    Phase 8 deletes `src/flask_app` and `requirements-legacy.txt`; without them the deployment is
    the cutover composition whatever the stored phase says. Nothing is imported to find out.
    """
    try:
        return all(find_spec(name) is not None for name in LEGACY_DOOR_MODULES)
    except (ImportError, ValueError):
        return False


def default_scheduler_host() -> str:
    """`flask` while the legacy door exists (side-by-side hosts it there), else `fastapi`."""
    return "flask" if legacy_door_installed() else "fastapi"


def default_fastapi_workers() -> int:
    """One FastAPI worker per core this process may run on (the GIL holds each worker to one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


def _networks(raw: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """Comma-separated addresses or CIDR networks (an address is a one-address network)."""
    return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in raw.split(",") if item.strip())


class UnsafeProductionSettings(RuntimeError):
    """Raised at start when production mode meets an unsafe value."""


class Settings(BaseSettings):
    """Deployment settings; names match the contract's section 1.8."""

    model_config = SettingsConfigDict(
        env_file=PROJECT_ROOT / ".env", env_file_encoding="utf-8", extra="ignore"
    )

    # --- security ---
    FLASK_ENV: str = "development"
    # Empty: generated outside production (load_settings), refused in production.
    SECRET_KEY: str = ""
    JWT_SECRET_KEY: str = ""
    JWT_ACCESS_TOKEN_EXPIRES: int = 3600
    JWT_REFRESH_TOKEN_EXPIRES: int = 2592000
    CORS_ORIGINS: str = "*"
    # Peers whose X-Forwarded-For / X-Real-IP are believed (src/core/client_address.py).
    TRUSTED_PROXIES: str = "127.0.0.1,::1"
    EXPOSE_ERROR_DETAILS: bool | None = None
    ALLOW_PRIVATE_TARGETS: bool | None = None

    # --- storage ---
    DATABASE_URL: str = DEFAULT_SQLITE_URL
    DATA_DIR: Path = DEFAULT_DATA_DIR

    # --- web ---
    HTTP_PORT: int = 8000
    FLASK_PORT: int = 5000
    FASTAPI_PORT: int = 8001
    # uvicorn worker processes of the FastAPI door as `serve` starts it (metrics, caches, the
    # scheduler lease and startup work are safe for several).
    FASTAPI_WORKERS: int = Field(default_factory=default_fastapi_workers, ge=1, le=64)
    FRONTEND_BASE_URL: str = "http://localhost:5173"
    BULK_UPLOAD_MAX_BYTES: int = 1048576
    MAX_JSON_BODY_BYTES: int = 1048576

    # --- scheduler ---
    SCHEDULER_TIMEZONE: str = "Asia/Tokyo"
    SCHEDULER_HOST: str = Field(default_factory=default_scheduler_host)
    SCHEDULER_LEASE_SECONDS: int = 15
    SCHEDULER_SYNC_SECONDS: float = 1
    SCHEDULER_MISFIRE_GRACE_SECONDS: int = 60
    SCHEDULER_MAX_CONCURRENT_RUNS: int = 50

    # --- retention (0 days = keep forever) ---
    # 180 days keeps two quarters of run history for "when did this start failing" questions, far
    # beyond the dashboard's 30-day preset, while bounding the table on a busy deployment.
    EXECUTION_RETENTION_DAYS: int = Field(default=180, ge=0)
    # Notifications are an inbox, multiplied by the number of users (broadcasts); after 90 days
    # an entry, read or unread, is no longer actionable.
    NOTIFICATION_RETENTION_DAYS: int = Field(default=90, ge=0)
    # Rows deleted per transaction: short write locks on SQLite, bounded bind-parameter lists.
    RETENTION_BATCH_SIZE: int = Field(default=1000, ge=1, le=10000)
    # Daily prune time (HH:MM) in SCHEDULER_TIMEZONE: a quiet hour, off the minute where
    # "0 * * * *"-style jobs bunch up.
    RETENTION_TIME: str = "03:17"

    # --- outbound: GitHub, webhooks ---
    GITHUB_TOKEN: str = ""
    GITHUB_API_BASE_URL: str = "https://api.github.com"
    DEFAULT_GITHUB_OWNER: str = "my-org"
    OUTBOUND_TIMEOUT_SECONDS: float = 10.0

    # --- email ---
    MAIL_ENABLED: bool = True
    MAIL_SERVER: str = "smtp.gmail.com"
    MAIL_PORT: int = 587
    MAIL_USE_TLS: bool = True
    MAIL_USERNAME: str = ""
    MAIL_PASSWORD: str = ""
    MAIL_DEFAULT_SENDER: str = "noreply@cronjobscheduler.local"

    # --- shadow reads (side-by-side phase): /api GETs replayed on /api/v2 and compared ---
    # On: while side by side, nginx sends each /api GET/HEAD, once answered, as a datagram to
    # the comparer in the FastAPI process (127.0.0.1:FASTAPI_PORT/udp); never in cutover, where
    # both prefixes are FastAPI. `off` renders none of it and the comparer does not listen.
    SHADOW_READS: bool = True
    # Fraction of /api reads nginx sends (0..1, in steps of 0.0001). Sent reads are compared up
    # to SHADOW_MAX_IN_FLIGHT at once, and at most one a second while other clients are served.
    SHADOW_SAMPLE_RATE: float = Field(default=1.0, ge=0.0, le=1.0)
    # Comparisons running at once in one process; a mirrored read beyond it is dropped (shed).
    SHADOW_MAX_IN_FLIGHT: int = Field(default=2, ge=1, le=256)
    # Comparisons of one route started per second at most, whatever the traffic; the rest are shed.
    SHADOW_MAX_PER_SECOND: float = Field(default=5.0, gt=0, le=10_000)
    # Where the comparer reaches each door directly (never through nginx, which would send the
    # replay again); empty means this host's FLASK_PORT / FASTAPI_PORT.
    SHADOW_LEGACY_URL: str = ""
    SHADOW_V2_URL: str = ""
    # Redacted examples kept per distinct difference of a route.
    SHADOW_SAMPLES_PER_DIFFERENCE: int = Field(default=5, ge=0, le=100)
    # `phase cutover` refuses while a route seen in this many hours has an unexplained mismatch.
    SHADOW_GATE_HOURS: int = Field(default=24, ge=1)

    # --- FastAPI door: repeated reads answered from memory (SQLite only, docs/PERFORMANCE.md) ---
    # Per worker process; 0 turns it off. A kept answer is used only while no commit has happened
    # anywhere since (SQLite's data_version), so it never shows an older state than the database.
    READ_CACHE_MB: int = Field(default=16, ge=0, le=4096)

    # --- first admin ---
    ADMIN_USERNAME: str = ""
    ADMIN_EMAIL: str = ""
    ADMIN_PASSWORD: str = ""

    @field_validator("RETENTION_TIME")
    @classmethod
    def _check_retention_time(cls, value: str) -> str:
        hour, _, minute = value.strip().partition(":")
        if not (hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60):
            raise ValueError("RETENTION_TIME must be HH:MM (24-hour), e.g. 03:17")
        return f"{int(hour):02d}:{int(minute):02d}"

    @field_validator("DATA_DIR")
    @classmethod
    def _anchor_data_dir(cls, value: Path) -> Path:
        # A relative folder means one under the project, whichever directory a process starts in.
        return value if value.is_absolute() else PROJECT_ROOT / value

    @property
    def retention_hour_minute(self) -> tuple[int, int]:
        """RETENTION_TIME as (hour, minute) in the scheduler timezone."""
        hour, minute = self.RETENTION_TIME.split(":")
        return int(hour), int(minute)

    @property
    def is_production(self) -> bool:
        return self.FLASK_ENV.strip().lower() == "production"

    @property
    def jwt_secret(self) -> str:
        return self.JWT_SECRET_KEY or self.SECRET_KEY

    @property
    def expose_error_details(self) -> bool:
        if self.EXPOSE_ERROR_DETAILS is None:
            return not self.is_production
        return self.EXPOSE_ERROR_DETAILS

    @property
    def allow_private_targets(self) -> bool:
        if self.ALLOW_PRIVATE_TARGETS is None:
            return not self.is_production
        return self.ALLOW_PRIVATE_TARGETS

    @field_validator("TRUSTED_PROXIES")
    @classmethod
    def _check_trusted_proxies(cls, value: str) -> str:
        _networks(value)  # raises ValueError: "does not appear to be an IPv4 or IPv6 network"
        return value

    @cached_property
    def trusted_proxies(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return _networks(self.TRUSTED_PROXIES)

    @property
    def cors_origins(self) -> list[str]:
        return [o.strip() for o in self.CORS_ORIGINS.split(",") if o.strip()]

    @cached_property
    def scheduler_tz(self) -> ZoneInfo:
        """The scheduler timezone; an unknown name falls back to UTC (contract 8.9)."""
        try:
            return ZoneInfo(self.SCHEDULER_TIMEZONE)
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo("UTC")

    @property
    def shadow_legacy_url(self) -> str:
        return (self.SHADOW_LEGACY_URL or f"http://127.0.0.1:{self.FLASK_PORT}").rstrip("/")

    @property
    def shadow_v2_url(self) -> str:
        return (self.SHADOW_V2_URL or f"http://127.0.0.1:{self.FASTAPI_PORT}").rstrip("/")

    @property
    def frontend_base_url(self) -> str:
        return self.FRONTEND_BASE_URL.rstrip("/")

    def check_production_safety(self) -> None:
        """Refuse to run production with default secrets or open CORS; name the setting to fix."""
        if not self.is_production:
            return
        problems = []
        if not self.SECRET_KEY or self.SECRET_KEY == DEFAULT_SECRET:
            problems.append("set SECRET_KEY to a long random value")
        if (
            not self.JWT_SECRET_KEY
            or self.JWT_SECRET_KEY == DEFAULT_SECRET
            or self.JWT_SECRET_KEY == self.SECRET_KEY
        ):
            problems.append("set JWT_SECRET_KEY to a long random value different from SECRET_KEY")
        origins = self.cors_origins
        if not origins or "*" in origins:
            problems.append("set CORS_ORIGINS to the explicit SPA origin(s), not '*'")
        if problems:
            raise UnsafeProductionSettings(
                "FLASK_ENV=production refuses unsafe settings: " + "; ".join(problems)
            )


def _unset(secret: str) -> bool:
    return not secret or secret == DEFAULT_SECRET


def generated_secrets(data_dir: Path) -> dict[str, str]:
    """SECRET_KEY and JWT_SECRET_KEY from `data_dir/secrets.json`, created (0600) on first use.

    Every process of a deployment (both doors, their workers, the CLI) reads the same file; when
    several start at once, the first hard link wins and the others read its values.
    """
    path = data_dir / GENERATED_SECRETS_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        values = {name: secrets.token_urlsafe(48) for name in ("SECRET_KEY", "JWT_SECRET_KEY")}
        draft = data_dir / f".{GENERATED_SECRETS_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(values, handle)
        try:
            os.link(draft, path)  # atomic: never a half-written file, never two different values
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    stored = json.loads(path.read_text(encoding="utf-8"))
    return {"SECRET_KEY": str(stored["SECRET_KEY"]), "JWT_SECRET_KEY": str(stored["JWT_SECRET_KEY"])}


def load_settings(**overrides: object) -> Settings:
    """Build settings from env/.env plus explicit overrides, checked for production safety.

    Outside production, secrets left unset (or at the published default) are replaced by random
    ones generated once into DATA_DIR, so no deployment signs tokens with a key everyone knows.
    """
    settings = Settings(**overrides)  # type: ignore[arg-type]  # pydantic validates the loosely typed overrides
    settings.check_production_safety()
    if not settings.is_production and _unset(settings.SECRET_KEY):
        generated = generated_secrets(settings.DATA_DIR)
        settings.SECRET_KEY = generated["SECRET_KEY"]
        if _unset(settings.JWT_SECRET_KEY):
            settings.JWT_SECRET_KEY = generated["JWT_SECRET_KEY"]
    return settings

"""A job's request settings (contract 7.8) and run policy (7.9): stored columns, read back.

Every field is optional; a job that sets none is called exactly as before the fields existed
(8.1). Each key's rule is the job body model's (src/schemas/job_run_settings.py): `column_values`
reads the keys present in a create/update body with it and returns the columns to store;
`settings_of` reads them back for a run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from src.core.errors import read_field
from src.core.job_fields import json_object
from src.models import Job
from src.schemas.job_bodies import JobRunSettingsRequest
from src.schemas.job_run_settings import REQUEST_SETTING_KEYS, RUN_POLICY_KEYS

DEFAULT_MAX_RETRIES = 0
DEFAULT_BACKOFF_SECONDS = 10


@dataclass(frozen=True)
class RequestSettings:
    """How a run calls its target; secrets stay out of repr so they never reach a log."""

    method: str | None = None
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    body: str | None = field(default=None, repr=False)
    timeout_seconds: int | None = None
    max_retries: int = DEFAULT_MAX_RETRIES
    retry_backoff_seconds: int = DEFAULT_BACKOFF_SECONDS
    signing_secret: str | None = field(default=None, repr=False)

    @property
    def attempts_allowed(self) -> int:
        return 1 + self.max_retries


def column_values(payload: dict[str, Any]) -> dict[str, Any]:
    """The columns of the 7.8 then 7.9 keys present in `payload`, each read by its model rule in order."""
    values = {
        key: read_field(JobRunSettingsRequest, payload, key)
        for key in REQUEST_SETTING_KEYS + RUN_POLICY_KEYS if key in payload
    }
    if "http_headers" in values:
        values["http_headers"] = json.dumps(values["http_headers"]) if values["http_headers"] else None
    return values


def stored_headers(text: str | None) -> dict[str, str]:
    """The stored header object (`{}` when null or unreadable)."""
    return {str(name): str(header) for name, header in json_object(text).items()}


def settings_of(job: Job | Any) -> RequestSettings:
    """The request settings stored on a job (or a row with its attribute names)."""
    return RequestSettings(
        method=job.http_method,
        headers=stored_headers(job.http_headers),
        body=job.request_body,
        timeout_seconds=job.timeout_seconds,
        max_retries=DEFAULT_MAX_RETRIES if job.max_retries is None else job.max_retries,
        retry_backoff_seconds=DEFAULT_BACKOFF_SECONDS if job.retry_backoff_seconds is None
        else job.retry_backoff_seconds,
        signing_secret=job.signing_secret,
    )

"""The bodies of `POST /jobs` and `PUT /jobs/{id}` (contract 4.3, 4.4, 7.1, 7.8, 7.9) and the
query of `GET /jobs` (4.1.1): each field's rule, its failure text, and what the document says.

Three rules need the database (a duplicate name,
the category, the PIC team) and sit between field rules, so the core reads a job body field by
field in that order (`contract_errors.field_value`) and runs its lookups at their places.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from src.schemas.body_fields import Truthy, optional_text
from src.schemas.contract_errors import refusal
from src.schemas.cron_syntax import FIVE_FIELDS_PATTERN, cron_problem
from src.schemas.job_run_settings import (
    FailureThreshold,
    GraceSeconds,
    HttpHeaders,
    HttpMethod,
    MaxRetries,
    RequestBody,
    RetryBackoffSeconds,
    SigningSecret,
    TimeoutSeconds,
    TimeZoneName,
)
from src.schemas.query_rules import QueryText, case_insensitive_pattern, lenient_int
from src.schemas.target_syntax import github_shorthand, is_webhook_url

REQUIRED_CREATE_KEYS = ("name", "cron_expression", "end_date")

NAME_EMPTY = "Job name cannot be empty"
INVALID_CRON = "Invalid cron expression"
INVALID_TARGET_URL = "Invalid target_url"
TARGET_SCHEME_MESSAGE = "target_url must include scheme (http:// or https://)."
INVALID_CATEGORY = "Invalid category"
CATEGORY_MESSAGE = "Unknown category. Create it in Settings → Categories first, or choose General."
INVALID_METADATA = "Invalid metadata"
METADATA_MESSAGE = "metadata must be a JSON object"
INVALID_EMAILS = "Invalid notification_emails"
EMAILS_MESSAGE = "notification_emails must be a list"
INVALID_END_DATE = "Invalid end_date"
END_DATE_FORMAT_MESSAGE = "Invalid end_date. Use YYYY-MM-DD."

_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


# --- field rules -------------------------------------------------------------------------------


def _name(value: Any) -> str:
    """Rule 2: a non-blank string, trimmed."""
    if not isinstance(value, str) or not value.strip():
        raise refusal(NAME_EMPTY)
    return value.strip()


def _cron(value: Any) -> str:
    """Rule 4 (7.2): a valid 5-field crontab, its fields single-spaced."""
    problem = cron_problem(value)
    if problem is not None:
        raise refusal(INVALID_CRON, problem)
    return " ".join(str(value).split())


def _target_url(value: Any) -> str | None:
    """Rules 5-6: blank → None; GitHub shorthand as written; else an http(s) URL."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise refusal(INVALID_TARGET_URL, TARGET_SCHEME_MESSAGE)
    text = value.strip() or None
    if text and github_shorthand(text) is None and not is_webhook_url(text):
        raise refusal(INVALID_TARGET_URL, TARGET_SCHEME_MESSAGE)
    return text


def _category(value: Any) -> str | None:
    """Rule 7's shape: a string naming a category (blank/absent/null → general, resolved later)."""
    if value is not None and not isinstance(value, str):
        raise refusal(INVALID_CATEGORY, CATEGORY_MESSAGE)
    return value.strip() or None if value is not None else None


def _metadata(value: Any) -> dict[str, Any]:
    """Rule 8: a JSON object (null → {})."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise refusal(INVALID_METADATA, METADATA_MESSAGE)
    return value


def _emails(value: Any) -> list[str]:
    """Rule 9: a list of strings or one comma-separated string (null → []); trimmed, empties dropped."""
    if value is None:
        return []
    if isinstance(value, str):
        items: list[Any] = value.split(",")
    elif isinstance(value, list) and all(isinstance(item, str) for item in value):
        items = value
    else:
        raise refusal(INVALID_EMAILS, EMAILS_MESSAGE)
    return [item.strip() for item in items if item.strip()]


def end_date_of(value: Any, *, message: str = END_DATE_FORMAT_MESSAGE) -> date | None:
    """Rule 10: blank/null → None (rule 11 is the caller's); a `YYYY-MM-DD` string → its date."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str) or not _ISO_DAY.fullmatch(value.strip()):
        raise refusal(INVALID_END_DATE, message)
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise refusal(INVALID_END_DATE, message) from None


def _team(value: Any) -> Any:
    # Rules 13-15 look the team up (the core); any other type is "Unknown PIC team" there.
    return value


JobName = Annotated[str, BeforeValidator(_name), WithJsonSchema({"type": "string", "pattern": r"\S"})]
CronExpression = Annotated[
    str, BeforeValidator(_cron), WithJsonSchema({"type": "string", "pattern": FIVE_FIELDS_PATTERN})
]
TargetUrl = Annotated[
    str | None,
    BeforeValidator(_target_url),
    WithJsonSchema({
        "type": ["string", "null"],
        "description": "An http(s) webhook URL, or owner/repo/workflow (GitHub shorthand).",
    }),
]
CategoryText = Annotated[
    str | None, BeforeValidator(_category),
    WithJsonSchema({"type": ["string", "null"], "description": "Category slug or name; blank: general."}),
]
Metadata = Annotated[
    dict[str, Any], BeforeValidator(_metadata), WithJsonSchema({"type": ["object", "null"]})
]
NotificationEmails = Annotated[
    list[str], BeforeValidator(_emails),
    WithJsonSchema({
        "anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string"}, {"type": "null"}],
        "description": "A list, or one comma-separated string; kept only with email notifications on.",
    }),
]
EndDate = Annotated[
    date | None, BeforeValidator(end_date_of),
    WithJsonSchema({"type": "string", "format": "date", "description": "Today or later (scheduler zone)."}),
]
PicTeamText = Annotated[
    Any, BeforeValidator(_team),
    WithJsonSchema({"type": ["string", "null"], "description": "Slug or name of an active PIC team."}),
]


class JobRunSettingsRequest(BaseModel):
    """The optional request settings (contract 7.8) and run policy (7.9) of create and update,
    in the contract's order (after the 7.1 fields)."""

    model_config = ConfigDict(extra="ignore")

    http_method: HttpMethod = None
    http_headers: HttpHeaders = Field(default_factory=dict)
    request_body: RequestBody = None
    timeout_seconds: TimeoutSeconds = None
    max_retries: MaxRetries = None
    retry_backoff_seconds: RetryBackoffSeconds = None
    signing_secret: SigningSecret = None
    failure_threshold: FailureThreshold = None
    grace_seconds: GraceSeconds = None
    timezone: TimeZoneName = None


class _CreateFields(BaseModel):
    """The 7.1 fields of a create, in the table's order."""

    name: JobName
    cron_expression: CronExpression
    target_url: TargetUrl = None
    github_owner: optional_text("github_owner") = None  # type: ignore[valid-type]  # an Annotated type built by optional_text
    github_repo: optional_text("github_repo") = None  # type: ignore[valid-type]  # as above
    github_workflow_name: optional_text("github_workflow_name") = None  # type: ignore[valid-type]  # as above
    category: CategoryText = None
    metadata: Metadata = Field(default_factory=dict)
    notification_emails: NotificationEmails = Field(default_factory=list)
    end_date: EndDate
    pic_team: PicTeamText = None
    pic_team_slug: PicTeamText = None
    enable_email_notifications: Truthy = False
    notify_on_success: Truthy = False


class _UpdateFields(BaseModel):
    """The 7.1 fields of an update (each optional), in the table's order, then `is_active`."""

    name: JobName | None = None
    cron_expression: CronExpression | None = None
    target_url: TargetUrl = None
    github_owner: optional_text("github_owner") = None  # type: ignore[valid-type]  # as in _CreateFields
    github_repo: optional_text("github_repo") = None  # type: ignore[valid-type]  # as above
    github_workflow_name: optional_text("github_workflow_name") = None  # type: ignore[valid-type]  # as above
    category: CategoryText = None
    metadata: Metadata = Field(default_factory=dict)
    notification_emails: NotificationEmails = Field(default_factory=list)
    end_date: EndDate = None
    pic_team: PicTeamText = None
    pic_team_slug: PicTeamText = None
    enable_email_notifications: Truthy = False
    notify_on_success: Truthy = False
    is_active: Truthy = True


# The 7.1 fields first (pydantic orders inherited fields by the reversed MRO), then 7.8 and 7.9.
class JobCreateRequest(JobRunSettingsRequest, _CreateFields):
    """`POST /jobs` (contract 4.3): the keys of 7.1 rule 1 are required, the rest optional."""

    # Rules 13 and 16 as the document can say them: a team, and a webhook or GitHub target.
    model_config = ConfigDict(json_schema_extra={"allOf": [
        {"anyOf": [{"required": ["pic_team"]}, {"required": ["pic_team_slug"]}]},
        {"anyOf": [{"required": ["target_url"]}, {"required": ["github_repo", "github_workflow_name"]}]},
    ]})


class JobUpdateRequest(JobRunSettingsRequest, _UpdateFields):
    """`PUT /jobs/{id}` (contract 4.4): any subset of the create keys plus `is_active`."""


# --- GET /jobs ---------------------------------------------------------------------------------

JOB_SORT_KEYS = ("name", "created_at", "updated_at", "end_date")
JOB_STATUSES = ("active", "inactive")


def _status(value: Any) -> str | None:
    text = value.strip().lower() if isinstance(value, str) else None
    if not text:
        return None
    if text not in JOB_STATUSES:
        raise refusal("Invalid status", "status must be active or inactive.")
    return text


def _sort(value: Any) -> str | None:
    text = value.strip() if isinstance(value, str) else None
    if not text:
        return None
    if text.removeprefix("-") not in JOB_SORT_KEYS:
        raise refusal("Invalid sort", f"sort must be one of {', '.join(JOB_SORT_KEYS)}, optionally prefixed with -.")
    return text


MAX_JOB_PAGE = 10**9
DEFAULT_JOB_LIMIT = 50
MAX_JOB_LIMIT = 500


class JobListQuery(BaseModel):
    """`GET /jobs` parameters (4.1.1); with none of them the answer is the whole list.

    A parameter given (even blank) is in `model_fields_set`: that selects the paged answer.
    """

    model_config = ConfigDict(extra="ignore")

    page: lenient_int(1, 1, MAX_JOB_PAGE) = 1  # type: ignore[valid-type]  # an Annotated type built by lenient_int
    limit: lenient_int(DEFAULT_JOB_LIMIT, 1, MAX_JOB_LIMIT) = DEFAULT_JOB_LIMIT  # type: ignore[valid-type]  # as above
    q: Annotated[QueryText, Field(description="Case-insensitive text in name, target_url or github_repo")] = None
    status: Annotated[str | None, BeforeValidator(_status), WithJsonSchema({
        "type": "string", "pattern": f"^\\s*({case_insensitive_pattern(JOB_STATUSES)})?\\s*$",
        "description": "active or inactive (any case)",
    })] = None
    category: Annotated[QueryText, Field(description="Category slug")] = None
    pic_team: Annotated[QueryText, Field(description="PIC team slug")] = None
    sort: Annotated[str | None, BeforeValidator(_sort), WithJsonSchema({
        "type": "string", "pattern": f"^\\s*(-?({'|'.join(JOB_SORT_KEYS)}))?\\s*$",
        "description": "name, created_at, updated_at or end_date; a leading - sorts descending",
    })] = None


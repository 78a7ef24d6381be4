"""Result body of `POST /jobs/bulk-upload` (contract 4.7), the same for dry and real runs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

from src.schemas.common import ApiModel
from src.schemas.query_rules import QueryFlag


class BulkStats(ApiModel):
    """What normalization (7.7 steps 1-4) removed from the uploaded table."""

    original_column_count: int
    original_row_count: int
    removed_column_count: int
    removed_empty_row_count: int


class BulkRowError(ApiModel):
    """One skipped row: `{row, job_name?, error, message?, pic_team?, pic_team_slug?}`.

    Optional keys appear only when given at construction (`pic_team` may then be null), because
    the SPA tells "no name read" / "no message" / "not a team error" apart by key presence.
    """

    row: int
    job_name: str | None = None
    error: str
    message: str | None = None
    pic_team: str | None = None
    pic_team_slug: str | None = None

    # No return annotation: pydantic then documents the model's own fields in OpenAPI
    # (an annotation would replace them with a bare object).
    @model_serializer(mode="wrap")
    def _only_given_keys(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]  # pydantic's wrap serializer returns Any
        data = handler(self)
        for key in ("job_name", "message", "pic_team", "pic_team_slug"):
            if key not in self.model_fields_set:
                data.pop(key, None)
        return data


class BulkCreatedJob(ApiModel):
    """A job inserted by a real run."""

    id: str
    name: str
    is_active: bool


class BulkValidatedJob(ApiModel):
    """A row a dry run found valid: `end_date` as written in the CSV, `pic_team` as resolved slug."""

    name: str
    is_active: bool
    cron_expression: str
    end_date: str
    pic_team: str


class BulkUploadResponse(ApiModel):
    """4.7's result body; also the extra keys of its 400 (then with `error` and another message)."""

    message: str
    dry_run: bool
    stats: BulkStats
    created_count: int
    error_count: int
    errors: list[BulkRowError]
    jobs: list[BulkCreatedJob | BulkValidatedJob]

    @classmethod
    def of(cls, result: Any) -> BulkUploadResponse:
        """Core's `ImportResult`, read by attribute; its row errors keep only the keys they were given."""
        return cls.model_validate(result, from_attributes=True)


class BulkUploadForm(ApiModel):
    """`POST /jobs/bulk-upload` multipart form (documentation)."""

    file: bytes
    default_github_owner: str | None = None
    dry_run: str | None = Field(None, description="1, true, yes, y or on (any case) validates without creating")

    model_config = {"json_schema_extra": {"properties": {"file": {"type": "string", "format": "binary"}}}}


class BulkUploadOptions(BaseModel):
    """The text parts of the form beside the CSV, read alike by both doors."""

    model_config = ConfigDict(extra="ignore")

    default_github_owner: str | None = None
    dry_run: QueryFlag = False

    @classmethod
    def from_form(cls, form: Mapping[str, Any]) -> BulkUploadOptions:
        """The options from a submitted form; a file sent under an option's name is ignored."""
        return cls.model_validate(
            {key: value for key in ("default_github_owner", "dry_run") if isinstance(value := form.get(key), str)}
        )

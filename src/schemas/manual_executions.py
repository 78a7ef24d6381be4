"""Bodies of the manual execute (contract 4.6) and test-run (4.10) endpoints."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    WithJsonSchema,
    model_serializer,
)

from src.schemas.body_fields import lenient_number, optional_text
from src.schemas.common import ApiModel
from src.schemas.contract_errors import INVALID_PAYLOAD, refusal


class ExecuteResponse(ApiModel):
    """200 whether the run succeeded or failed; the outcome is in the execution row."""

    message: str = "Job triggered successfully"
    job_id: str
    execution_id: str | None
    status: Literal["running", "success", "failed"] | None = Field(
        None, description="The run's final status when it ended within the request, else `running`"
    )


class TestRunResponse(ApiModel):
    """`{ok, type, status_code, message}` after a call, `{ok, type, error, message}` without one."""

    ok: bool
    type: Literal["webhook", "github"]
    status_code: int | None = None
    error: str | None = None
    message: str

    # No return annotation: pydantic then documents the model's own fields in OpenAPI
    # (an annotation would replace them with a bare object).
    @model_serializer(mode="wrap")
    def _drop_absent_keys(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]  # pydantic's wrap serializer returns Any
        data = handler(self)
        for key in ("status_code", "error"):
            if data.get(key) is None:
                data.pop(key, None)
        return data


# --- request bodies -------------------------------------------------------------------------
# The core reads them field by field (`src.core.errors.read_field`): execute's body is read only
# after the job's 404/403/expiry checks, and test-run's target check precedes its timeout's.


def _execute_metadata(value: Any) -> dict[str, Any] | None:
    if value is not None and not isinstance(value, dict):
        raise refusal(INVALID_PAYLOAD, '"metadata" must be a JSON object.')
    return value


def _trial_metadata(value: Any) -> dict[str, Any]:
    if value and not isinstance(value, dict):
        raise refusal("Invalid metadata", '"metadata" must be an object.')
    return value or {}


class ExecuteRequest(BaseModel):
    """Per-run overrides, never persisted; an empty body runs the job as stored (4.6)."""

    model_config = ConfigDict(extra="ignore")

    metadata: Annotated[dict[str, Any] | None, BeforeValidator(_execute_metadata),
                        WithJsonSchema({"type": ["object", "null"]})] = None
    target_url: optional_text("target_url") = None  # type: ignore[valid-type]  # an Annotated type built by optional_text
    dispatch_url: Annotated[optional_text("dispatch_url"), Field(  # type: ignore[valid-type]  # as above
        description="owner/repo/workflow, /owner/repo/actions/workflows/wf, or a github.com workflow URL",
    )] = None
    github_owner: optional_text("github_owner") = None  # type: ignore[valid-type]  # as above
    github_repo: optional_text("github_repo") = None  # type: ignore[valid-type]  # as above
    github_workflow_name: optional_text("github_workflow_name") = None  # type: ignore[valid-type]  # as above
    github_token: optional_text("github_token") = None  # type: ignore[valid-type]  # as above


class TestRunRequest(BaseModel):
    """A one-off trial (4.10): a webhook URL, or all three GitHub fields."""

    model_config = ConfigDict(extra="ignore", json_schema_extra={"anyOf": [
        {"required": ["target_url"]}, {"required": ["github_owner", "github_repo", "github_workflow_name"]},
    ]})

    target_url: optional_text("target_url") = None  # type: ignore[valid-type]  # as above
    github_owner: optional_text("github_owner") = None  # type: ignore[valid-type]  # as above
    github_repo: optional_text("github_repo") = None  # type: ignore[valid-type]  # as above
    github_workflow_name: optional_text("github_workflow_name") = None  # type: ignore[valid-type]  # as above
    metadata: Annotated[
        dict[str, Any], BeforeValidator(_trial_metadata),
        WithJsonSchema({"description": "An object; a falsy value means {}"}),
    ] = Field(default_factory=dict)
    timeout_seconds: lenient_number(  # type: ignore[valid-type]  # an Annotated type built by lenient_number
        "timeout_seconds", "Seconds, default 10, clamped to 1..30") = None

"""Bodies of the manual execute (contract 4.6) and test-run (4.10) endpoints."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, SerializerFunctionWrapHandler, model_serializer

from src.schemas.common import ApiModel


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


# --- request bodies (documentation: the core parses bodies with the contract's own rules) ---


class ExecuteRequest(ApiModel):
    """Per-run overrides, never persisted; an empty body runs the job as stored."""

    metadata: dict[str, Any] | None = None
    target_url: str | None = None
    dispatch_url: str | None = None
    github_owner: str | None = None
    github_repo: str | None = None
    github_workflow_name: str | None = None
    github_token: str | None = None


class TestRunRequest(ApiModel):
    target_url: str | None = None
    github_owner: str | None = None
    github_repo: str | None = None
    github_workflow_name: str | None = None
    metadata: dict[str, Any] | None = None
    timeout_seconds: float | None = 10

"""Bodies of the manual execute (contract 4.6) and test-run (4.10) endpoints."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import SerializerFunctionWrapHandler, model_serializer

from src.schemas.common import ApiModel


class ExecuteResponse(ApiModel):
    """200 whether the run succeeded or failed; the outcome is in the execution row."""

    message: str = "Job triggered successfully"
    job_id: str
    execution_id: str | None


class TestRunResponse(ApiModel):
    """`{ok, type, status_code, message}` after a call, `{ok, type, error, message}` without one."""

    ok: bool
    type: Literal["webhook", "github"]
    status_code: int | None = None
    error: str | None = None
    message: str

    @model_serializer(mode="wrap")
    def _drop_absent_keys(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data = handler(self)
        for key in ("status_code", "error"):
            if data.get(key) is None:
                data.pop(key, None)
        return data  # type: ignore[no-any-return]

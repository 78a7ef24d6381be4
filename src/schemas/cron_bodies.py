"""Bodies of the cron tools (contract 4.8, 4.9, 4.11)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, model_validator

from src.schemas.body_fields import lenient_number
from src.schemas.contract_errors import refusal
from src.schemas.cron_syntax import cron_problem

INVALID_CRON = "Invalid cron expression"
DEFAULT_PREVIEW_COUNT = 5
MAX_PREVIEW_COUNT = 20

# Validity is the answer of these tools, not a refusal: any JSON value is taken, and anything but
# a valid 5-field crontab string is reported invalid (validate, describe: in the 200 body).
AnyExpression = Annotated[Any, WithJsonSchema({
    "description": "A 5-field crontab (7.2). Any other value, a non-string too, is reported invalid.",
})]


class CronExpressionRequest(BaseModel):
    """`expression` (or `cron_expression`; `expression` wins when not null)."""

    model_config = ConfigDict(extra="ignore")

    expression: AnyExpression = None
    cron_expression: AnyExpression = None

    @property
    def chosen(self) -> Any:
        return self.expression if self.expression is not None else self.cron_expression


class CronPreviewRequest(CronExpressionRequest):
    """4.9: `count` is read first (non-numeric → 400), then the expression (invalid → 400)."""

    count: Annotated[lenient_number("count", "Absent, null or 0: 5; otherwise clamped to 1..20"),  # type: ignore[valid-type]  # an Annotated type built by lenient_number
                     Field(json_schema_extra=None)] = None

    @property
    def runs_wanted(self) -> int:
        if not self.count:
            return DEFAULT_PREVIEW_COUNT
        return max(1, min(MAX_PREVIEW_COUNT, int(self.count)))

    @model_validator(mode="after")
    def _valid_expression(self) -> CronPreviewRequest:
        problem = cron_problem(self.chosen)
        if problem is not None:
            raise refusal(INVALID_CRON, problem)
        return self

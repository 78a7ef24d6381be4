"""Field types shared by every response schema."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, PlainSerializer

from src.time_text import format_utc

# A UTC instant rendered as `2025-12-22T10:30:00.123Z` (contract 1.6).
UtcInstant = Annotated[datetime | None, PlainSerializer(format_utc, return_type=str | None)]


class ApiModel(BaseModel):
    """Base for response models: built from ORM objects by attribute."""

    model_config = ConfigDict(from_attributes=True)

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class ErrorBody(BaseModel):
    """The contract's error envelope (documented extra keys are allowed)."""

    model_config = ConfigDict(extra="allow")

    error: str
    message: str | None = None


class MessageBody(ApiModel):
    message: str


class DateRangeOut(BaseModel):
    """The effective `from`/`to` bounds echoed by ranged endpoints (contract 1.7)."""

    # `from` is a Python keyword: serialize by alias even where a caller forgets by_alias. Also
    # built straight from core's `DateRange` (`.start` / `.end`).
    model_config = ConfigDict(from_attributes=True, serialize_by_alias=True)

    from_: UtcInstant = Field(
        default=None, serialization_alias="from", validation_alias=AliasChoices("from", "from_", "start")
    )
    to: UtcInstant = Field(default=None, validation_alias=AliasChoices("to", "end"))

"""Field types shared by every response schema."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, PlainSerializer

from src.core.clock import format_utc

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

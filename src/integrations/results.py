"""What one dispatch produced, in the terms of the execution row (contract 8.2)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DispatchResult:
    success: bool
    response_status: int | None = None
    error_message: str | None = None
    output: str | None = None
    # Set when the call used a different target than planned (GitHub `.yml`/`.yaml` retry).
    target: str | None = None

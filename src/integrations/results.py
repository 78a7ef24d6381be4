"""What one dispatch produced, in the terms of the execution row (contract 8.2), and a failed delivery."""

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
    # The first 1 KB of the response body when it is text (the row's `response_excerpt`).
    excerpt: str | None = None
    # A failure worth another attempt (8.1: connection error, timeout, 429, 5xx) and the wait
    # the target asked for (`Retry-After`, seconds).
    retryable: bool = False
    retry_after: float | None = None


class DeliveryFailed(Exception):
    """A Slack or email message that was due could not be delivered.

    `reason` is safe to log: it never holds a webhook URL or a password.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def without_secrets(text: str, *secrets: str | None) -> str:
    """`text` with every non-empty secret replaced by `***`."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text

"""Failed-login throttling (contract 1.3, status 429): bounds password guessing per account and client.

In-process and in-memory: each worker counts on its own, so a deployment of N workers allows at
most N times the limit. The key is (identifier, client address): behind a proxy every client shares
one address and the limit becomes per account, which still bounds guessing without letting one
noisy client lock everybody out.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from src.core.errors import TooManyAttempts

MAX_FAILURES = 10
WINDOW_SECONDS = 15 * 60
PRUNE_ABOVE_KEYS = 10_000  # sprays of random usernames must not grow memory without bound


class LoginThrottle:
    """A sliding window of failure instants per (identifier, client)."""

    def __init__(self, max_failures: int = MAX_FAILURES, window_seconds: float = WINDOW_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_failures = max_failures
        self.window_seconds = window_seconds
        self._clock = clock
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(identifier: str, client: str | None) -> tuple[str, str]:
        return identifier.strip().lower(), client or ""

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        failures = self._failures.get(key, deque())
        while failures and failures[0] <= now - self.window_seconds:
            failures.popleft()
        return failures

    def check(self, identifier: str, client: str | None) -> None:
        """429 with a retry delay once the window holds `max_failures` failures."""
        now = self._clock()
        key = self._key(identifier, client)
        with self._lock:
            failures = self._recent(key, now)
            if not failures:
                self._failures.pop(key, None)
                return
            if len(failures) < self.max_failures:
                return
            retry_after = max(1, math.ceil(failures[0] + self.window_seconds - now))
        error = TooManyAttempts(
            "Too many attempts", f"Too many failed login attempts. Try again in {retry_after} seconds."
        )
        error.retry_after = retry_after  # type: ignore[attr-defined]
        raise error

    def record_failure(self, identifier: str, client: str | None) -> None:
        now = self._clock()
        key = self._key(identifier, client)
        with self._lock:
            if len(self._failures) > PRUNE_ABOVE_KEYS:
                self._prune(now)
            failures = self._recent(key, now)
            failures.append(now)
            self._failures[key] = failures

    def _prune(self, now: float) -> None:
        stale = [key for key, failures in self._failures.items() if failures[-1] <= now - self.window_seconds]
        for key in stale:
            del self._failures[key]

    def record_success(self, identifier: str, client: str | None) -> None:
        with self._lock:
            self._failures.pop(self._key(identifier, client), None)


__all__ = ["LoginThrottle", "MAX_FAILURES", "WINDOW_SECONDS"]

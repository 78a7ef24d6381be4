"""Failed-login throttle: sliding window per (identifier, client) (contract 1.3, 429)."""

from __future__ import annotations

import pytest

from src.core.errors import TooManyAttempts
from src.core.login_throttle import LoginThrottle


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def throttle_with(clock: FakeClock) -> LoginThrottle:
    return LoginThrottle(max_failures=3, window_seconds=60, clock=clock)


def fail(throttle: LoginThrottle, times: int, identifier: str = "alice", client: str = "1.2.3.4") -> None:
    for _ in range(times):
        throttle.record_failure(identifier, client)


def test_below_the_limit_passes() -> None:
    throttle = throttle_with(FakeClock())
    fail(throttle, 2)
    throttle.check("alice", "1.2.3.4")


def test_at_the_limit_is_429_with_retry_delay() -> None:
    clock = FakeClock()
    throttle = throttle_with(clock)
    fail(throttle, 3)
    clock.now += 15
    with pytest.raises(TooManyAttempts) as raised:
        throttle.check("alice", "1.2.3.4")
    assert raised.value.status_code == 429
    assert raised.value.body() == {"error": "Too many attempts",
                                   "message": "Too many failed login attempts. Try again in 45 seconds."}
    assert raised.value.retry_after == 45  # type: ignore[attr-defined]


def test_identifier_case_and_spaces_do_not_escape_the_limit() -> None:
    throttle = throttle_with(FakeClock())
    fail(throttle, 3, identifier="Alice")
    with pytest.raises(TooManyAttempts):
        throttle.check(" alice ", "1.2.3.4")


def test_failures_expire_with_the_window() -> None:
    clock = FakeClock()
    throttle = throttle_with(clock)
    fail(throttle, 3)
    clock.now += 60
    throttle.check("alice", "1.2.3.4")


def test_other_accounts_and_clients_are_unaffected() -> None:
    throttle = throttle_with(FakeClock())
    fail(throttle, 3)
    throttle.check("bob", "1.2.3.4")
    throttle.check("alice", "5.6.7.8")


def test_success_clears_the_count() -> None:
    throttle = throttle_with(FakeClock())
    fail(throttle, 2)
    throttle.record_success("alice", "1.2.3.4")
    fail(throttle, 2)
    throttle.check("alice", "1.2.3.4")

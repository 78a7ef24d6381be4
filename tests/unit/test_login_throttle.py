"""Failed-login counters in the database: pair, client and account rules, with an injected clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event, func, select
from sqlalchemy.orm import Session

from src.core.errors import TooManyAttempts
from src.core.login_throttle import Limits, LoginThrottle
from src.models import LoginFailure, TrustedLoginClient, User

LIMITS = Limits(pair=3, client=5, account=4, window=timedelta(seconds=60),
                account_window=timedelta(seconds=600), backoff_cap=timedelta(seconds=10),
                trust=timedelta(days=1), trust_refresh=timedelta(seconds=300))


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2025, 1, 1, 12, 0, 0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    engine = create_engine(f"sqlite:///{tmp_path / 'throttle.db'}")
    for model in (LoginFailure, TrustedLoginClient, User):
        model.__table__.create(engine)  # type: ignore[attr-defined]  # a mapped class's __table__ is a Table
    with Session(engine) as session:
        yield session
    engine.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def throttle(clock: FakeClock) -> LoginThrottle:
    return LoginThrottle(LIMITS, clock=clock)


def fail(session: Session, throttle: LoginThrottle, times: int, identifier: str = "alice",
         client: str = "1.2.3.4") -> None:
    for _ in range(times):
        throttle.record_failure(session, identifier, client)


def retry_after(session: Session, throttle: LoginThrottle, identifier: str = "alice", client: str = "1.2.3.4") -> int:
    with pytest.raises(TooManyAttempts) as caught:
        throttle.check(session, identifier, client)
    assert caught.value.body()["error"] == "Too many attempts"
    return caught.value.retry_after  # type: ignore[attr-defined,no-any-return]  # retry_after is set on the raised error


def test_below_the_pair_limit_passes(session: Session, throttle: LoginThrottle) -> None:
    fail(session, throttle, 2)
    throttle.check(session, "alice", "1.2.3.4")


def test_pair_limit_locks_until_a_window_after_the_last_failure(session: Session, throttle: LoginThrottle,
                                                                 clock: FakeClock) -> None:
    fail(session, throttle, 3)
    clock.advance(15)
    assert retry_after(session, throttle) == 45


def test_pair_lock_expires(session: Session, throttle: LoginThrottle, clock: FakeClock) -> None:
    fail(session, throttle, 3)
    clock.advance(60)
    throttle.check(session, "alice", "1.2.3.4")


def test_a_failure_after_the_window_starts_the_count_again(session: Session, throttle: LoginThrottle,
                                                           clock: FakeClock) -> None:
    fail(session, throttle, 2)
    clock.advance(61)
    fail(session, throttle, 1)  # 3 would lock the pair; the account (limit 4) still counts all 3
    throttle.check(session, "alice", "1.2.3.4")


def test_identifier_is_compared_trimmed_and_case_insensitively(session: Session, throttle: LoginThrottle) -> None:
    fail(session, throttle, 3, identifier="Alice")
    assert retry_after(session, throttle, identifier=" alice ") >= 1


def test_pair_lock_leaves_other_clients_and_accounts_alone(session: Session, throttle: LoginThrottle) -> None:
    fail(session, throttle, 3)
    throttle.check(session, "bob", "1.2.3.4")
    throttle.check(session, "alice", "5.6.7.8")


def succeed(session: Session, throttle: LoginThrottle, identifier: str = "alice", client: str = "1.2.3.4") -> None:
    """A success as `authenticate_credentials` records one: the check's reads passed on."""
    attempt = throttle.check(session, identifier, client)
    throttle.record_success(session, identifier, client, attempt)
    session.commit()


def trusted_at(session: Session) -> datetime | None:
    session.expire_all()
    return session.scalar(select(TrustedLoginClient.last_success_at))


def test_a_success_within_the_refresh_interval_writes_nothing(session: Session, throttle: LoginThrottle,
                                                              clock: FakeClock) -> None:
    succeed(session, throttle)
    clock.advance(299)
    written: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith("SELECT"):
            written.append(statement)

    event.listen(session.get_bind(), "before_cursor_execute", note)
    succeed(session, throttle)
    assert written == []
    assert trusted_at(session) == clock.now - timedelta(seconds=299)


def test_a_success_after_the_refresh_interval_moves_the_trust_row(session: Session, throttle: LoginThrottle,
                                                                  clock: FakeClock) -> None:
    succeed(session, throttle)
    clock.advance(300)
    succeed(session, throttle)
    assert trusted_at(session) == clock.now


def test_a_success_after_the_trust_window_trusts_again(session: Session, throttle: LoginThrottle,
                                                       clock: FakeClock) -> None:
    succeed(session, throttle)
    clock.advance(2 * 86400)
    for n in range(5):
        fail(session, throttle, 1, identifier=f"sprayed-{n}")
    assert retry_after(session, throttle) == 60  # no longer trusted: the address's lock applies
    clock.advance(60)
    succeed(session, throttle)
    fail(session, throttle, 5, identifier="sprayed-again")
    throttle.check(session, "alice", "1.2.3.4")  # trusted again: only its own pair counts


def test_trust_ends_at_most_a_refresh_interval_early(session: Session, throttle: LoginThrottle,
                                                     clock: FakeClock) -> None:
    succeed(session, throttle)
    clock.advance(299)
    succeed(session, throttle)  # not written: the window still runs from the first success
    clock.advance(86400 - 299 - 1)
    fail(session, throttle, 5, identifier="sprayed")
    throttle.check(session, "alice", "1.2.3.4")  # a day less 1 s after the first success: trusted
    clock.advance(1)
    # A day after the first success, 299 s (under the refresh interval) early for the last one.
    assert retry_after(session, throttle) == 59


def test_a_success_of_a_trusted_client_after_failures_clears_the_pair(session: Session, throttle: LoginThrottle,
                                                                      clock: FakeClock) -> None:
    succeed(session, throttle)
    clock.advance(10)
    fail(session, throttle, 2)
    succeed(session, throttle)
    assert sorted(session.scalars(select(LoginFailure.scope))) == ["account", "client"]
    fail(session, throttle, 2)
    throttle.check(session, "alice", "1.2.3.4")


def test_a_success_without_failures_deletes_nothing(session: Session, throttle: LoginThrottle) -> None:
    fail(session, throttle, 1, identifier="bob")
    attempt = throttle.check(session, "alice", "1.2.3.4")
    assert not attempt.pair_failures
    throttle.record_success(session, "alice", "1.2.3.4", attempt)
    assert session.scalar(select(func.count()).select_from(LoginFailure)) == 3  # bob's pair, client, account


def test_success_clears_the_pair(session: Session, throttle: LoginThrottle) -> None:
    fail(session, throttle, 2)
    throttle.record_success(session, "alice", "1.2.3.4")
    fail(session, throttle, 1)
    throttle.check(session, "alice", "1.2.3.4")


def test_client_limit_counts_failures_over_all_accounts(session: Session, throttle: LoginThrottle) -> None:
    for name in ("a", "b", "c", "d", "e"):
        fail(session, throttle, 1, identifier=name)
    assert retry_after(session, throttle, identifier="fresh-account") == 60
    throttle.check(session, "fresh-account", "5.6.7.8")


def test_account_limit_applies_to_every_client(session: Session, throttle: LoginThrottle) -> None:
    for n in range(4):
        fail(session, throttle, 1, client=f"10.0.0.{n}")
    # 4 failures = the account limit: the first backoff step is 2**0 = 1 s.
    assert retry_after(session, throttle, client="10.0.0.99") == 1


def test_account_backoff_doubles_and_is_capped(session: Session, throttle: LoginThrottle, clock: FakeClock) -> None:
    waits = []
    for n in range(10):
        fail(session, throttle, 1, client=f"10.0.1.{n}")
        if n >= 3:
            waits.append(retry_after(session, throttle, client="10.0.9.9"))
    assert waits == [1, 2, 4, 8, 10, 10, 10]


def test_account_backoff_ends_a_cap_after_the_last_failure(session: Session, throttle: LoginThrottle,
                                                           clock: FakeClock) -> None:
    for n in range(12):
        fail(session, throttle, 1, client=f"10.0.2.{n}")
    clock.advance(10)
    throttle.check(session, "alice", "10.0.9.9")


def test_account_counter_decays_after_its_window(session: Session, throttle: LoginThrottle,
                                                 clock: FakeClock) -> None:
    for n in range(4):
        fail(session, throttle, 1, client=f"10.0.3.{n}")
    clock.advance(601)
    fail(session, throttle, 1, client="10.0.3.9")
    throttle.check(session, "alice", "10.0.9.9")


def test_backoff_of_a_huge_count_is_the_cap(throttle: LoginThrottle) -> None:
    assert throttle.backoff(10**9) == timedelta(seconds=10)
    assert throttle.backoff(3) == timedelta(0)


def test_stale_rows_are_pruned_on_the_next_failure(session: Session, throttle: LoginThrottle,
                                                   clock: FakeClock) -> None:
    fail(session, throttle, 1, identifier="old", client="9.9.9.9")
    clock.advance(601)
    fail(session, throttle, 1, identifier="new", client="8.8.8.8")
    assert session.scalar(select(func.count()).select_from(LoginFailure)) == 3  # pair, client, account of "new"


def test_trust_rows_past_the_trust_window_are_pruned_on_the_next_failure(
    session: Session, throttle: LoginThrottle, clock: FakeClock
) -> None:
    succeed(session, throttle, client="9.9.9.9")
    clock.advance(86400 - 1)
    succeed(session, throttle, client="8.8.8.8")
    clock.advance(1)
    fail(session, throttle, 1, identifier="someone")
    assert session.scalar(select(func.count()).select_from(TrustedLoginClient)) == 1  # 8.8.8.8's


def test_one_row_per_counter_however_many_failures(session: Session, throttle: LoginThrottle) -> None:
    fail(session, throttle, 7)
    counts = dict(session.execute(select(LoginFailure.scope, LoginFailure.failures)).all())
    assert counts == {"pair": 7, "client": 7, "account": 7}


def test_identifiers_are_stored_only_as_digests(session: Session, throttle: LoginThrottle) -> None:
    fail(session, throttle, 1, identifier="my-secret-password")
    keys = session.scalars(select(LoginFailure.key_hash)).all()
    assert all(len(key) == 64 and "secret" not in key for key in keys)

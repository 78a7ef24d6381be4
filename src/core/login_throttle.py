"""Failed-login throttling (contract 1.3, status 429), counted in the database.

Policy (OWASP Authentication Cheat Sheet: failures are counted per account, not only per source
address; lockouts are temporary; a lockout must not become a denial of service, which the sheet
answers with per-device exemptions; here the device is the client address):

- The account: every spelling that names one account (its username in any case, its email in any
  case) is one counter, keyed by the user id. A name that matches no account is counted under its
  trimmed, lower-cased text, so guessing unknown names is limited too.
- pair (account, client address): `PAIR_LIMIT` failures lock that pair for `WINDOW` after its last
  failure. The limit a user mistyping their own password meets; other clients are unaffected.
- client address: `CLIENT_LIMIT` failures over any names (a spray from one address) lock that
  address for `WINDOW`, except for trusted clients (below).
- account: from `ACCOUNT_LIMIT` failures in `ACCOUNT_WINDOW`, whatever the clients, each further
  attempt waits `min(2 ** (failures - ACCOUNT_LIMIT), ACCOUNT_BACKOFF_CAP)` seconds after the last
  failure, except for trusted clients.
- trusted client: an (account, address) pair with a successful login within `TRUST_WINDOW`. Only
  its own pair counter can stop it, so a stranger elsewhere cannot lock a user out of where they
  usually log in, however long the stranger keeps failing, and a burst of failures (for unknown
  names or others) from a shared address does not stop the people behind it who logged in from it.

Refused attempts (429) are not counted, so hammering never extends a lock. Counters decay: a row
whose last failure is older than its window starts again from one, and such rows are pruned (so
are trust rows past `TRUST_WINDOW`). A failure is one atomic `INSERT ... ON CONFLICT DO UPDATE` per
counter (SQLite and PostgreSQL), so concurrent failures are all counted. The check is a read before
the password is verified: requests already in flight when a limit is reached may finish their
attempt (the overshoot is bounded by their number). Counts and trust rows are keyed by SHA-256
digests, so typed identifiers and addresses are never stored readable.

Writes happen in the caller's session: the failed login's `Unauthorized` carries
`keep_changes`, so the door commits the count although it answers 401.

A success writes only what changes the policy's state, so the common login (a client trusted
lately, no failures on its pair) is a read-only transaction: on SQLite a write takes the one
database-wide write lock and a commit, which would serialise every login of both doors and
invalidate every reader's cache (`PRAGMA data_version`). `check` reads the attempt's keys, trust
and counters once and hands them (an `Attempt`) to `record_success` / `record_failure`, which
therefore do not work the keys out again:

- the pair's failure row is deleted only when `check` saw one. A failure of the same pair that
  commits between this attempt's check and its success stays counted, as it would had it come
  just after the success: concurrent attempts have no order to keep.
- the trust row is written only when it is missing or its `last_success_at` is `TRUST_REFRESH`
  (an hour) old or older. Trust is still judged as `last_success_at` within `TRUST_WINDOW`, so a
  client stays trusted from 30 days minus at most an hour to 30 days after its last success: the
  window may end up to an hour early, never late (an hour is 0.14% of 30 days; the refresh is
  what lets a client logging in every few minutes cost one write an hour, not one a login).
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, String, bindparam, case, delete, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from src.core.clock import utcnow
from src.core.errors import TooManyAttempts
from src.models import LoginFailure, TrustedLoginClient, User

PAIR_LIMIT = 10
CLIENT_LIMIT = 100
ACCOUNT_LIMIT = 30
WINDOW = timedelta(minutes=15)
ACCOUNT_WINDOW = timedelta(hours=1)
ACCOUNT_BACKOFF_CAP = timedelta(minutes=5)
# How long a successful login keeps its (account, address) pair trusted.
TRUST_WINDOW = timedelta(days=30)
# A success moves the pair's trust row forward only once it is this old (module docstring): the
# window then ends at most this much early, and repeated logins are reads, not writes.
TRUST_REFRESH = timedelta(hours=1)
# Kept for callers that speak of "the" limit: the one a single client meets on one account.
MAX_FAILURES = PAIR_LIMIT
WINDOW_SECONDS = int(WINDOW.total_seconds())

PAIR, CLIENT, ACCOUNT = "pair", "client", "account"


@dataclass(frozen=True)
class Limits:
    """The thresholds and durations of the three counters (tests shrink them)."""

    pair: int = PAIR_LIMIT
    client: int = CLIENT_LIMIT
    account: int = ACCOUNT_LIMIT
    window: timedelta = WINDOW
    account_window: timedelta = ACCOUNT_WINDOW
    backoff_cap: timedelta = ACCOUNT_BACKOFF_CAP
    trust: timedelta = TRUST_WINDOW
    trust_refresh: timedelta = TRUST_REFRESH


@dataclass(frozen=True)
class Attempt:
    """What `check` read for one login attempt, so recording its outcome reads nothing again."""

    keys: dict[str, str]  # every counter's key, whether or not trust exempted it from the check
    trusted_at: datetime | None  # the pair's trust row (`last_success_at`), whatever its age
    pair_failures: bool  # the pair had a failure row (stale or not) when checked
    retry_after: int | None  # seconds until admitted; None: admitted now


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def _upsert_dialect(session: Session) -> Callable[..., Any]:
    """The `insert` with ON CONFLICT of the session's database (both have one)."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def _normalized(identifier: str) -> str:
    return identifier.strip().lower()


# Every login attempt runs these; built once, since building the expression cost more than
# running it (as with authentication's statement in src/core/tokens.py).
# ACCOUNT_BY_NAME: the account a typed name belongs to. Each arm of its OR has an index
# (lower(username): ix_users_username_lower), so no attempt reads every user.
ACCOUNT_BY_NAME = (
    select(User.id)
    .where((User.username == bindparam("name")) | (func.lower(User.username, type_=String) == bindparam("folded"))
           | (User.email == bindparam("folded")))
    .order_by((User.username == bindparam("name")).desc(), (User.email == bindparam("folded")).desc(), User.id)
    .limit(1)
)
_TRUSTED_AT = select(TrustedLoginClient.last_success_at).where(TrustedLoginClient.key_hash == bindparam("key"))


@functools.cache
def _failures_of(scopes: tuple[str, ...]) -> Select[str, int, datetime]:
    """The counters of `scopes`, each key bound under its scope's name (one statement per set of scopes)."""
    return select(LoginFailure.scope, LoginFailure.failures, LoginFailure.last_failure_at).where(
        or_(*[(LoginFailure.scope == scope) & (LoginFailure.key_hash == bindparam(scope)) for scope in scopes])
    )


def account_key(session: Session, identifier: str) -> str:
    """One key per account whatever spelling names it; a name matching none keys by its text.

    A username matched exactly wins (usernames are case-sensitive and "Bob" and "bob" may both
    exist), then a username or email equal ignoring case (emails are stored lower-cased).
    """
    name = identifier.strip()
    folded = name.lower()
    user_id = session.scalars(ACCOUNT_BY_NAME, {"name": name, "folded": folded}).first()
    return f"user:{user_id}" if user_id is not None else f"name:{folded}"


class LoginThrottle:
    """Database-backed failure counters per (identifier, client), client and identifier."""

    def __init__(self, limits: Limits | None = None, clock: Callable[[], datetime] = utcnow) -> None:
        self.limits = limits or Limits()
        self._clock = clock

    def _keys(self, session: Session, identifier: str, client: str | None) -> dict[str, str]:
        account, address = account_key(session, identifier), client or ""
        keys = {PAIR: _digest(PAIR, account, address), ACCOUNT: _digest(ACCOUNT, account)}
        if address:  # no address (unit calls, odd transports): no shared anonymous counter
            keys[CLIENT] = _digest(CLIENT, address)
        return keys

    def _trusted_at(self, session: Session, pair_key: str) -> datetime | None:
        return session.scalar(_TRUSTED_AT, {"key": pair_key})

    def _decay(self, scope: str) -> timedelta:
        return self.limits.account_window if scope == ACCOUNT else self.limits.window

    def backoff(self, failures: int) -> timedelta:
        """The account's wait after its last failure once `failures` reached the account limit."""
        excess = failures - self.limits.account
        if excess < 0:
            return timedelta(0)
        # Past 2**20 s every cap that makes sense applies; the bound keeps timedelta from overflowing.
        return min(timedelta(seconds=2 ** min(excess, 20)), self.limits.backoff_cap)

    def _locked_until(self, scope: str, failures: int, last_failure_at: datetime) -> datetime | None:
        if scope == ACCOUNT:
            wait = self.backoff(failures)
            return last_failure_at + wait if wait else None
        limit = self.limits.pair if scope == PAIR else self.limits.client
        return last_failure_at + self.limits.window if failures >= limit else None

    def assess(self, session: Session, identifier: str, client: str | None) -> Attempt:
        """Everything the check reads: keys, the pair's trust, the counters and the wait."""
        now = self._clock()
        keys = self._keys(session, identifier, client)
        trusted_at = self._trusted_at(session, keys[PAIR])
        checked = keys
        if trusted_at is not None and trusted_at > now - self.limits.trust:
            # Where this account logged in lately only its own pair counter applies.
            checked = {PAIR: keys[PAIR]}
        rows = session.execute(_failures_of(tuple(checked)), checked).all()
        waits = []
        pair_failures = False
        for scope, failures, last_failure_at in rows:
            pair_failures = pair_failures or scope == PAIR
            if last_failure_at <= now - self._decay(scope):
                continue
            locked_until = self._locked_until(scope, failures, last_failure_at)
            if locked_until is not None and locked_until > now:
                waits.append(locked_until - now)
        retry_after = max(1, math.ceil(max(waits).total_seconds())) if waits else None
        return Attempt(keys=keys, trusted_at=trusted_at, pair_failures=pair_failures, retry_after=retry_after)

    def retry_after(self, session: Session, identifier: str, client: str | None) -> int | None:
        """Seconds until this attempt would be admitted, or None when it is admitted now."""
        return self.assess(session, identifier, client).retry_after

    def check(self, session: Session, identifier: str, client: str | None) -> Attempt:
        """429 `Too many attempts` with `retry_after` seconds while any counter is locked.

        Admitted, the attempt's reads: pass them to `record_success` / `record_failure`.
        """
        attempt = self.assess(session, identifier, client)
        if attempt.retry_after is None:
            return attempt
        error = TooManyAttempts(
            "Too many attempts", f"Too many failed login attempts. Try again in {attempt.retry_after} seconds."
        )
        error.retry_after = attempt.retry_after
        raise error

    def record_failure(self, session: Session, identifier: str, client: str | None,
                       attempt: Attempt | None = None) -> None:
        """Count one failure on every counter (one atomic upsert each), then drop stale rows.

        `attempt`: what `check` read for this attempt (its keys are not worked out again).
        """
        now = self._clock()
        insert = _upsert_dialect(session)
        keys = attempt.keys if attempt is not None else self._keys(session, identifier, client)
        for scope, key in keys.items():
            statement = insert(LoginFailure).values(scope=scope, key_hash=key, failures=1, last_failure_at=now)
            statement = statement.on_conflict_do_update(
                index_elements=[LoginFailure.scope, LoginFailure.key_hash],
                set_={
                    "failures": case(
                        (LoginFailure.last_failure_at <= now - self._decay(scope), 1),
                        else_=LoginFailure.failures + 1,
                    ),
                    "last_failure_at": now,
                },
            )
            session.execute(statement)
        self.prune(session, now)

    def record_success(self, session: Session, identifier: str, client: str | None,
                       attempt: Attempt | None = None) -> None:
        """A success clears its pair's counter and trusts the pair; account and client counters decay.

        Only what changes is written (module docstring): the pair's failures when `check` saw
        some, the trust row when it is missing or `trust_refresh` old. `attempt`: what `check`
        read for this attempt; without it, it is read now.
        """
        if attempt is None:
            attempt = self.assess(session, identifier, client)
        pair_key = attempt.keys[PAIR]
        if attempt.pair_failures:
            session.execute(delete(LoginFailure).where(LoginFailure.scope == PAIR, LoginFailure.key_hash == pair_key))
        if not client:
            return
        now = self._clock()
        if attempt.trusted_at is not None and attempt.trusted_at > now - self.limits.trust_refresh:
            return
        insert = _upsert_dialect(session)
        session.execute(
            insert(TrustedLoginClient).values(key_hash=pair_key, last_success_at=now)
            .on_conflict_do_update(index_elements=[TrustedLoginClient.key_hash], set_={"last_success_at": now})
        )

    def prune(self, session: Session, now: datetime | None = None) -> int:
        """Delete rows no window still counts (failures and trust); returns how many went."""
        now = now or self._clock()
        failures = session.execute(
            delete(LoginFailure).where(
                or_(
                    (LoginFailure.scope == ACCOUNT)
                    & (LoginFailure.last_failure_at <= now - self.limits.account_window),
                    (LoginFailure.scope != ACCOUNT) & (LoginFailure.last_failure_at <= now - self.limits.window),
                )
            )
        )
        # Trust past its window exempts nothing; the row would only ever be rewritten by a success.
        trust = session.execute(
            delete(TrustedLoginClient).where(TrustedLoginClient.last_success_at <= now - self.limits.trust)
        )
        gone = int(failures.rowcount or 0)  # type: ignore[attr-defined]  # rowcount is on CursorResult, typed Result
        return gone + int(trust.rowcount or 0)  # type: ignore[attr-defined]  # the same


__all__ = [
    "ACCOUNT_BY_NAME", "ACCOUNT_LIMIT", "CLIENT_LIMIT", "Attempt", "Limits", "LoginThrottle", "MAX_FAILURES",
    "PAIR_LIMIT", "TRUST_REFRESH", "TRUST_WINDOW", "WINDOW_SECONDS", "account_key",
]

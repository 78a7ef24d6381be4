"""Authentications kept while the database is unchanged (SQLite, FastAPI door).

Every authenticated request not answered by the read cache looked its caller up again: one
statement for the user and the token's revocation, in a session of its own, about a fifth of a
test-run's CPU on this door (docs/PERFORMANCE.md). What that lookup answers changes only with the
database: a logout or revocation, a deactivation, a password or role change are all commits. So a
successful authentication is kept per (Authorization header, token type) with the database's data
version (src/database/data_version.py), as the read cache keeps answers, and given again only
while the version is unchanged and the token is still within its lifetime. A failure is never
kept: it is worked out again, with its own message, every time.

Each request gets its own copy of the kept user, detached as the lookup's own was, so nothing one
request does to it reaches another.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import make_transient_to_detached

from src.config import Settings
from src.core.tokens import TokenType, token_current
from src.database.data_version import DataVersion
from src.models import User

# Enough for every signed-in browser of a deployment like ours; the oldest is dropped past it.
MAX_KEPT = 4096

Authentication = tuple[User, dict[str, Any]]


@dataclass(frozen=True)
class _Kept:
    probe: DataVersion  # each connection numbers its versions itself: a new probe matches nothing old
    version: int
    columns: dict[str, Any]
    claims: dict[str, Any]


def _columns(user: User) -> dict[str, Any]:
    return {attribute.key: getattr(user, attribute.key) for attribute in inspect(User).column_attrs}


def _detached_user(columns: dict[str, Any]) -> User:
    user = User(**columns)
    make_transient_to_detached(user)
    return user


class KeptAuthentications:
    """`authenticate` answers from a kept authentication when the database has not changed since."""

    def __init__(self, data_version: Callable[[], DataVersion | None], settings: Settings,
                 max_kept: int = MAX_KEPT) -> None:
        """`data_version` gives the lifespan's probe, or None (PostgreSQL): then nothing is kept."""
        self._data_version = data_version
        self._settings = settings
        self._max_kept = max_kept
        self._kept: OrderedDict[tuple[str, TokenType], _Kept] = OrderedDict()

    async def authenticate(self, header: str | None, expected: TokenType,
                           look_up: Callable[[], Awaitable[Authentication]]) -> Authentication:
        """The caller behind `header`: kept, or `look_up()`'s answer (kept when nothing committed meanwhile)."""
        probe = self._data_version()
        if probe is None or not header:
            return await look_up()
        key = (header, expected)
        version = probe.read()
        kept = self._kept.get(key)
        if (kept is not None and kept.probe is probe and kept.version == version
                and token_current(self._settings, header)):
            self._kept.move_to_end(key)
            return _detached_user(kept.columns), dict(kept.claims)
        user, claims = await look_up()
        if probe.read() == version:
            self._kept[key] = _Kept(probe, version, _columns(user), dict(claims))
            self._kept.move_to_end(key)
            while len(self._kept) > self._max_kept:
                self._kept.popitem(last=False)
        return user, claims

"""The v2 door's kept authentications: given again only while the database and the token allow."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from src.config import Settings
from src.core import tokens
from src.core.errors import Unauthorized
from src.database.data_version import DataVersion, open_data_version
from src.fastapi_app.kept_authentications import Authentication, KeptAuthentications
from src.models import User
from tests.conftest import Factory, make_settings

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def probe(settings: Settings) -> Iterator[DataVersion]:
    opened = open_data_version(settings.DATABASE_URL)
    assert opened is not None
    yield opened
    opened.close()


class LookUps:
    """The door's lookup (tokens.authenticate on a session of its own), counted."""

    def __init__(self, db: Session, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.count = 0

    def __call__(self, header: str, expected: tokens.TokenType = "access") -> Any:
        async def look_up() -> Authentication:
            self.count += 1
            self.db.expire_all()
            try:
                return tokens.authenticate(self.db, self.settings, header, expected)
            finally:
                self.db.rollback()
        return look_up


@pytest.fixture
def look_ups(db: Session, settings: Settings) -> LookUps:
    return LookUps(db, settings)


@pytest.fixture
def kept(probe: DataVersion, settings: Settings) -> KeptAuthentications:
    return KeptAuthentications(lambda: probe, settings)


@pytest.fixture
def header(factory: Factory) -> str:
    return f"Bearer {factory.token(factory.user('user', username='kept'))}"


async def test_a_second_request_with_the_same_token_is_not_looked_up_again(
        kept: KeptAuthentications, look_ups: LookUps, header: str) -> None:
    first, _ = await kept.authenticate(header, "access", look_ups(header))
    second, claims = await kept.authenticate(header, "access", look_ups(header))
    assert look_ups.count == 1
    assert (second.id, second.username, second.role) == (first.id, "kept", "user")
    assert claims["type"] == "access"


async def test_each_request_gets_its_own_copy_of_the_user(
        kept: KeptAuthentications, look_ups: LookUps, header: str) -> None:
    await kept.authenticate(header, "access", look_ups(header))
    copy, _ = await kept.authenticate(header, "access", look_ups(header))
    copy.role = "admin"
    again, _ = await kept.authenticate(header, "access", look_ups(header))
    assert again is not copy
    assert again.role == "user"


async def test_a_commit_anywhere_makes_the_next_request_look_up_again(
        kept: KeptAuthentications, look_ups: LookUps, header: str, db: Session) -> None:
    await kept.authenticate(header, "access", look_ups(header))
    db.execute(update(User).where(User.username == "kept").values(is_active=False))
    db.commit()
    with pytest.raises(Unauthorized, match="User not found or inactive"):
        await kept.authenticate(header, "access", look_ups(header))
    assert look_ups.count == 2


async def test_a_failed_authentication_is_never_kept(kept: KeptAuthentications, look_ups: LookUps) -> None:
    header = "Bearer not-a-token"
    for _ in range(2):
        with pytest.raises(Unauthorized):
            await kept.authenticate(header, "access", look_ups(header))
    assert look_ups.count == 2


async def test_an_expired_token_is_refused_though_its_authentication_was_kept(
        settings: Settings, factory: Factory, probe: DataVersion, db: Session) -> None:
    short_lived = make_settings(settings.DATABASE_URL, JWT_ACCESS_TOKEN_EXPIRES=1)
    header = f"Bearer {tokens.mint_token(short_lived, factory.user('user'), 'access', fresh=True).token}"
    look_ups = LookUps(db, short_lived)
    kept = KeptAuthentications(lambda: probe, short_lived)
    await kept.authenticate(header, "access", look_ups(header))
    await asyncio.sleep(2.1)  # past its expiry, whole seconds
    with pytest.raises(Unauthorized, match="Token has expired"):
        await kept.authenticate(header, "access", look_ups(header))
    assert look_ups.count == 2


async def test_an_access_and_a_refresh_authentication_are_kept_apart(
        kept: KeptAuthentications, look_ups: LookUps, factory: Factory) -> None:
    user = factory.user("user", username="two-kinds")
    refresh = f"Bearer {factory.token(user, 'refresh')}"
    await kept.authenticate(refresh, "refresh", look_ups(refresh, "refresh"))
    with pytest.raises(Unauthorized):
        await kept.authenticate(refresh, "access", look_ups(refresh, "access"))
    assert look_ups.count == 2


async def test_nothing_is_kept_without_a_data_version(
        settings: Settings, look_ups: LookUps, header: str) -> None:
    kept = KeptAuthentications(lambda: None, settings)
    for _ in range(2):
        await kept.authenticate(header, "access", look_ups(header))
    assert look_ups.count == 2

"""The client address behind nginx and at each door (issue 15, item 3).

nginx overwrites X-Forwarded-For / X-Real-IP with the address it accepted, and the doors believe
those headers only from a trusted proxy (TRUSTED_PROXIES), so a client cannot escape the login
throttle's per-(account, client) limit by naming a new address on every attempt.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from src.core.login_throttle import PAIR_LIMIT
from src.database.migrate import upgrade_to_head
from tests.conftest import PASSWORD, Factory, legacy_door, make_settings
from tests.door_servers import Door, start_doors, stop_processes
from tests.proxy.conftest import Stack, stack  # noqa: F401  (module-scoped fixture)

# Runs against the side-by-side deployment (gunicorn serves /api): needs the legacy door.
pytestmark = legacy_door

ATTEMPTS = PAIR_LIMIT + 2
PREFIXES = {"flask": "/api", "fastapi": "/api/v2"}
_accounts = itertools.count(1)


def spoofed(n: int) -> dict[str, str]:
    """A different made-up client address per attempt, in both headers a proxy would set."""
    address = f"203.0.113.{n % 250 + 1}"
    return {"X-Forwarded-For": f"198.51.100.{n % 250 + 1}, {address}", "X-Real-IP": address}


def failed_logins(post: object, username: str) -> list[int]:
    statuses = []
    for n in range(ATTEMPTS):
        response = post("/auth/login", json={"username": username, "password": "not-the-password"},  # type: ignore[operator]  # post is set for the door under test
                        headers=spoofed(n))
        statuses.append(response.status_code)
    return statuses


def register(base: str, token: str, door: str) -> str:
    username = f"xff-{door}-{next(_accounts)}"
    created = httpx.post(f"{base}/auth/register", headers={"Authorization": f"Bearer {token}"}, timeout=30,
                         json={"username": username, "email": f"{username}@example.com", "password": PASSWORD})
    assert created.status_code == 201, created.text
    return username


@pytest.mark.parametrize("door", ["flask", "fastapi"])
def test_through_nginx_spoofed_forwarded_headers_do_not_escape_the_throttle(
        stack: Stack, door: str) -> None:  # noqa: F811  # the imported pytest fixture, injected by name
    prefix = PREFIXES[door]
    base = stack.base + prefix
    username = register(base, stack.token(prefix), door)

    statuses = failed_logins(lambda path, **kw: httpx.post(base + path, timeout=30, **kw), username)

    assert statuses == [401] * PAIR_LIMIT + [429] * (ATTEMPTS - PAIR_LIMIT)


@pytest.fixture(scope="module")
def doors_trusting_another_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, Door], str]]:
    """Both doors served directly, trusting only a proxy at 192.0.2.1 (not this test's 127.0.0.1)."""
    folder: Path = tmp_path_factory.mktemp("direct-doors")
    url = f"sqlite:///{folder / 'app.db'}"
    settings = make_settings(url)
    upgrade_to_head(settings)
    from src.database.engines import create_sync_engine_from_settings, make_session_factory

    engine = create_sync_engine_from_settings(settings)
    with make_session_factory(engine)() as session:
        factory = Factory(session, settings)
        factory.user("user", username="direct-user-flask", email="direct-user-flask@example.com")
        factory.user("user", username="direct-user-fastapi", email="direct-user-fastapi@example.com")
    engine.dispose()
    # uvicorn applies forwarded headers itself before the app sees the request: its trusted list
    # follows TRUSTED_PROXIES as the deployment's must.
    doors, processes = start_doors(url, folder, env_overrides={"TRUSTED_PROXIES": "192.0.2.1",
                                                                "FORWARDED_ALLOW_IPS": "192.0.2.1"})
    try:
        yield doors, url
    finally:
        stop_processes(processes)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.parametrize("door", ["flask", "fastapi"])
def test_directly_at_a_door_forwarded_headers_from_an_untrusted_peer_are_ignored(
        doors_trusting_another_proxy: tuple[dict[str, Door], str], door: str) -> None:
    doors, _ = doors_trusting_another_proxy

    base = doors[door].base
    statuses = failed_logins(lambda path, **kw: httpx.post(base + path, timeout=30, **kw), f"direct-user-{door}")

    assert statuses == [401] * PAIR_LIMIT + [429] * (ATTEMPTS - PAIR_LIMIT)


@pytest.mark.parametrize("door", ["flask", "fastapi"])
def test_directly_at_a_door_a_trusted_proxy_names_the_client(
        stack: Stack, door: str) -> None:  # noqa: F811  # the imported pytest fixture, injected by name
    # The deployment's doors trust loopback (the default): a proxy there names each client, so
    # each made-up address is a client of its own and none reaches its pair limit.
    port = stack.flask_port if door == "flask" else stack.fastapi_port
    base = f"http://127.0.0.1:{port}{PREFIXES[door]}"
    username = register(stack.base + PREFIXES[door], stack.token(PREFIXES[door]), f"trusted-{door}")

    statuses = failed_logins(lambda path, **kw: httpx.post(base + path, timeout=30, **kw), username)

    assert statuses == [401] * ATTEMPTS

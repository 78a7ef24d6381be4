"""The HTTP suite runs every case through each door; a door is a prefix plus an app."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from src.config import Settings, legacy_door_installed
from tests.conftest import Factory


@contextmanager
def flask_http(settings: Settings) -> Iterator[httpx.Client]:
    from src.flask_app import create_app

    app = create_app(settings)
    try:
        with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://testserver") as client:
            yield client
    finally:
        app.extensions["runtime"].close()


@contextmanager
def fastapi_http(settings: Settings) -> Iterator[httpx.Client]:
    from fastapi.testclient import TestClient

    from src.fastapi_app.main import create_app

    with TestClient(create_app(settings), base_url="http://testserver") as client:
        yield client


@contextmanager
def embedded_http(settings: Settings) -> Iterator[httpx.Client]:
    """Both prefixes through the single-port composition (src/asgi.py)."""
    from fastapi.testclient import TestClient

    from src.asgi import create_app

    with TestClient(create_app(settings), base_url="http://testserver") as client:  # type: ignore[arg-type]  # the ASGI app's type is wider than TestClient's
        yield client


@contextmanager
def cutover_http(settings: Settings) -> Iterator[httpx.Client]:
    """Both prefixes from FastAPI, `/api/*` by the cutover rewrite (src/asgi.py with no legacy door)."""
    from fastapi.testclient import TestClient

    from src.asgi import create_app

    app = create_app(settings, with_legacy_door=False)
    with TestClient(app, base_url="http://testserver") as client:  # type: ignore[arg-type]  # the ASGI app's type is wider than TestClient's
        yield client


# prefix → how to serve it in-process; every case runs once through each door. Without the legacy
# door (Phase 8 deleted it, or Flask is not installed) FastAPI serves `/api` as after cutover.
DOORS: dict[str, Callable[[Settings], Any]] = {
    "/api": flask_http if legacy_door_installed() else cutover_http, "/api/v2": fastapi_http,
}
if os.environ.get("API_TRANSPORT") == "embedded":
    # tests/proxy runs the suite this way once: the embedded composition serves both prefixes.
    DOORS = {"/api": embedded_http, "/api/v2": embedded_http}
elif os.environ.get("API_TRANSPORT") == "cutover":
    # The suite as it runs once Flask is deleted, here with Flask still installed.
    DOORS = {"/api": cutover_http, "/api/v2": fastapi_http}
# Which app answers `/api` in this run (its `X-Served-By`).
LEGACY_PREFIX_SERVED_BY = "flask" if DOORS["/api"] in (flask_http, embedded_http) and legacy_door_installed() \
    else "fastapi"


class ApiClient:
    """An HTTP client bound to one door's prefix, with bearer-token convenience."""

    def __init__(self, http: httpx.Client, prefix: str) -> None:
        self.http = http
        self.prefix = prefix

    def request(self, method: str, path: str, *, token: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return self.http.request(method, self.prefix + path, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, **kwargs)


@pytest.fixture(params=list(DOORS))
def api(request: pytest.FixtureRequest, settings: Settings) -> Iterator[ApiClient]:
    with DOORS[request.param](settings) as http:
        yield ApiClient(http, request.param)


@pytest.fixture
def admin(factory: Factory):  # type: ignore[no-untyped-def]  # a fixture: pytest does not check its type
    return factory.user("admin")


@pytest.fixture
def user(factory: Factory):  # type: ignore[no-untyped-def]  # a fixture: pytest does not check its type
    return factory.user("user")


@pytest.fixture
def viewer(factory: Factory):  # type: ignore[no-untyped-def]  # a fixture: pytest does not check its type
    return factory.user("viewer")


@pytest.fixture
def team(factory: Factory):  # type: ignore[no-untyped-def]  # a fixture: pytest does not check its type
    return factory.team("Team A", slug="team-a", slack_handle="@team-a")

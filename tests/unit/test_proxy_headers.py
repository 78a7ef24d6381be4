"""The legacy door sees the client behind nginx, and only nginx may say who the client is."""

from __future__ import annotations

from src.config import Settings
from tests.conftest import legacy_door

pytestmark = legacy_door


def _client_address(remote_addr: str, forwarded_for: str | None) -> str:
    from flask import Flask, request

    from src.flask_app.proxy_headers import TrustedProxyFix

    app = Flask(__name__)

    @app.get("/whoami")
    def whoami() -> str:
        return request.remote_addr or ""

    trusted = Settings(_env_file=None).trusted_proxies  # type: ignore[call-arg]  # the default: loopback
    app.wsgi_app = TrustedProxyFix(app.wsgi_app, trusted)  # type: ignore[method-assign]  # replacing the method is the point
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return app.test_client().get("/whoami", headers=headers, environ_base={"REMOTE_ADDR": remote_addr}).text


def test_forwarded_for_from_the_local_proxy_names_the_client() -> None:
    assert _client_address("127.0.0.1", "203.0.113.5") == "203.0.113.5"


def test_forwarded_for_from_anyone_else_is_ignored() -> None:
    assert _client_address("198.51.100.7", "203.0.113.5") == "198.51.100.7"


def test_without_the_header_the_peer_is_the_client() -> None:
    assert _client_address("127.0.0.1", None) == "127.0.0.1"

"""X-Forwarded-* honoured only from the local proxy, as uvicorn's forwarded-allow-ips does for FastAPI.

Behind nginx both doors then see the real client address (the login throttle's per-client limits
depend on it); a client talking to gunicorn directly cannot spoof its address with the header.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from werkzeug.middleware.proxy_fix import ProxyFix

TRUSTED_PROXIES = ("127.0.0.1", "::1")


class TrustedProxyFix:
    """WSGI middleware: apply ProxyFix (one hop) only when the peer is a trusted proxy."""

    def __init__(self, app: Any, trusted: Iterable[str] = TRUSTED_PROXIES) -> None:
        self.app = app
        self.trusted = frozenset(trusted)
        self.proxied = ProxyFix(app, x_for=1, x_proto=1, x_host=1)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("REMOTE_ADDR") in self.trusted:
            return self.proxied(environ, start_response)
        return self.app(environ, start_response)

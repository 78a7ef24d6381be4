"""X-Forwarded-* honoured only from a trusted proxy (TRUSTED_PROXIES, src/core/client_address.py).

Behind nginx the legacy door then sees the real client address (the login throttle's per-client
limits depend on it); a client talking to gunicorn directly cannot spoof its address with the header.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from werkzeug.middleware.proxy_fix import ProxyFix

from src.core.client_address import client_address, is_trusted


class TrustedProxyFix:
    """WSGI middleware: the client address and scheme/host from the proxy, only from a trusted peer."""

    def __init__(self, app: Any, trusted: Iterable[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> None:
        self.app = app
        self.trusted = tuple(trusted)
        # The address is derived by the core rule below; ProxyFix keeps scheme and host.
        self.proxied = ProxyFix(app, x_for=0, x_proto=1, x_host=1)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        peer = environ.get("REMOTE_ADDR")
        if not is_trusted(peer, self.trusted):
            return self.app(environ, start_response)
        environ["REMOTE_ADDR"] = client_address(
            peer, environ.get("HTTP_X_FORWARDED_FOR"), environ.get("HTTP_X_REAL_IP"), self.trusted)
        return self.proxied(environ, start_response)

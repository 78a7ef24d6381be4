"""The client address a request is counted and logged under (login throttle, logs).

The forwarded headers are believed only when the TCP peer is a trusted proxy (TRUSTED_PROXIES:
addresses or networks, default loopback, where the private nginx runs). nginx overwrites both
headers with the address it accepted the connection from, so a client's own `X-Forwarded-For`
never reaches the apps; from any other peer the headers are the client's word and are ignored.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _address(raw: str | None) -> str | None:
    """A syntactically valid IP address, normalized, or None."""
    if not raw:
        return None
    try:
        return str(ipaddress.ip_address(raw.strip()))
    except ValueError:
        return None


def is_trusted(peer: str | None, trusted: Iterable[Network]) -> bool:
    address = _address(peer)
    if address is None:
        return False
    parsed = ipaddress.ip_address(address)
    return any(parsed.version == network.version and parsed in network for network in trusted)


def client_address(peer: str | None, forwarded_for: str | None, real_ip: str | None,
                   trusted: Iterable[Network]) -> str | None:
    """The proxy's word for the client when `peer` is a trusted proxy, else the peer itself.

    Behind a trusted proxy: `X-Real-IP`, else the right-most `X-Forwarded-For` entry (the one
    the proxy wrote; anything left of it came from the client).
    """
    if not is_trusted(peer, trusted):
        return peer
    told = _address(real_ip)
    if told is None and forwarded_for:
        told = _address(forwarded_for.split(",")[-1])
    return told or peer

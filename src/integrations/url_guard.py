"""Outbound URL guard: only http(s), and (unless private targets are allowed) only public addresses.

The address check runs inside the HTTP client, on the addresses the host resolves to at connect
time (`resolve_public` is the aiohttp connector's resolver, src.integrations.run_calls), and the
socket is opened to the checked IP itself. A URL that passes a check earlier but resolves
differently later (DNS rebinding) therefore cannot reach a private address. TLS still verifies
the original hostname.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

import anyio
import httpcore

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ALLOWED_SCHEMES = ("http", "https")
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


class BlockedAddress(httpcore.ConnectError):
    """A connect attempt refused by the guard; httpx surfaces it as `httpx.ConnectError`."""


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, 6to4, NAT64, v4-compatible)."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if any(ip in net for net in _NAT64) or (ip in _IPV4_COMPATIBLE and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public_address(ip: IpAddress) -> bool:
    """True only for globally routable unicast addresses (and what they embed)."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            # Traffic to these reaches the embedded IPv4 host, so that host decides.
            return is_public_address(embedded)
    return ip.is_global and not (
        ip.is_multicast
        or ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_unspecified
    )


def blocked_message(host: str, address: str | None = None) -> str:
    shown = f"{host} ({address})" if address and address != host else host
    return (
        f"Blocked outbound address {shown}: private, loopback, link-local and other non-public targets are not allowed"
    )


def url_problem(url: str, *, require_https: bool = False) -> str | None:
    """Why a URL may not be called at all (scheme or host), or None; addresses are checked later."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "Invalid URL"
    scheme = parts.scheme.lower()
    allowed = ("https",) if require_https else ALLOWED_SCHEMES
    if scheme not in allowed:
        return f"URL scheme must be {' or '.join(allowed)}"
    if not parts.hostname:
        return "URL has no host"
    return None


async def resolve_public(host: str, port: int, timeout: float | None = None) -> list[str]:
    """Every address `host` resolves to, or BlockedAddress when any of them is not public."""
    try:
        with anyio.fail_after(timeout):
            infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except TimeoutError as exc:
        raise httpcore.ConnectTimeout(f"Resolving {host} timed out") from exc
    except OSError as exc:
        raise httpcore.ConnectError(f"Cannot resolve {host}: {exc}") from exc
    addresses: list[str] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        address = str(sockaddr[0]).split("%", 1)[0]
        if not is_public_address(ipaddress.ip_address(address)):
            raise BlockedAddress(blocked_message(host, address))
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise httpcore.ConnectError(f"Cannot resolve {host}")
    return addresses

"""The process-wide outbound HTTP client: one pool, bounded timeouts, the address guard inside."""

from __future__ import annotations

from dataclasses import dataclass

import httpcore
import httpx

from src.config import Settings
from src.integrations.url_guard import GuardedNetworkBackend

# Response bodies are stored trimmed to 1000 characters; UTF-8 needs at most 4 bytes each.
MAX_STORED_CHARS = 1000
MAX_READ_BYTES = MAX_STORED_CHARS * 4


def _limits(settings: Settings) -> httpx.Limits:
    return httpx.Limits(
        max_connections=max(100, settings.SCHEDULER_MAX_CONCURRENT_RUNS * 2),
        max_keepalive_connections=20,
        keepalive_expiry=30,
    )


def _guarded_transport(limits: httpx.Limits) -> httpx.AsyncHTTPTransport:
    """An httpx transport whose connection pool opens sockets through the address guard.

    httpx 0.28 has no public parameter for an httpcore network backend (encode/httpx#3749 adds
    one), so the pool the transport built is replaced with an identical one that has our
    backend. This is the only place that touches the private `_pool` attribute.
    """
    transport = httpx.AsyncHTTPTransport(verify=True, trust_env=False, limits=limits)
    ssl_context = httpx.create_ssl_context(verify=True, trust_env=False)
    transport._pool = httpcore.AsyncConnectionPool(  # noqa: SLF001 - see docstring
        ssl_context=ssl_context,
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        http1=True,
        http2=False,
        network_backend=GuardedNetworkBackend(),
    )
    return transport


def create_http_client(settings: Settings) -> httpx.AsyncClient:
    """One client per process; private targets reachable only when the setting allows them."""
    limits = _limits(settings)
    transport = (
        httpx.AsyncHTTPTransport(verify=True, trust_env=False, limits=limits)
        if settings.allow_private_targets
        else _guarded_transport(limits)
    )
    return httpx.AsyncClient(
        transport=transport,
        timeout=httpx.Timeout(settings.OUTBOUND_TIMEOUT_SECONDS),
        follow_redirects=False,
        # Environment proxies would make the guard check the proxy instead of the target.
        trust_env=False,
    )


@dataclass(frozen=True)
class CappedResponse:
    status_code: int
    text: str


async def send_capped(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    json: object | None = None,
    headers: dict[str, str] | None = None,
    timeout: float | None = None,
) -> CappedResponse:
    """Send one request and read at most MAX_READ_BYTES of the body (a huge body is not loaded)."""
    extra = {} if timeout is None else {"timeout": timeout}
    request = client.build_request(method, url, json=json, headers=headers, **extra)
    response = await client.send(request, stream=True)
    try:
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            chunks.append(chunk)
            size += len(chunk)
            if size >= MAX_READ_BYTES:
                break
    finally:
        await response.aclose()
    raw = b"".join(chunks)[:MAX_READ_BYTES]
    encoding = response.charset_encoding or "utf-8"
    try:
        text = raw.decode(encoding, errors="replace")
    except LookupError:
        text = raw.decode("utf-8", errors="replace")
    return CappedResponse(response.status_code, text[:MAX_STORED_CHARS])


def describe_error(exc: BaseException) -> str:
    """Readable text for an outbound failure (httpx timeouts often carry an empty message)."""
    text = str(exc).strip()
    if isinstance(exc, httpx.TimeoutException):
        kind = type(exc).__name__
        return f"Request timed out ({kind}): {text}" if text else f"Request timed out ({kind})"
    return text or type(exc).__name__

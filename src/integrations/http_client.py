"""The process-wide outbound HTTP client: small connection pools used as one, bounded timeouts, the address guard
inside."""

from __future__ import annotations

import email.message
import ssl
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass

import httpcore
import httpx

from src import APP_VERSION
from src.config import Settings
from src.integrations.asyncio_network import AsyncioBackend
from src.integrations.url_guard import BlockedAddress, GuardedNetworkBackend

# Response bodies are stored trimmed to 1000 characters; UTF-8 needs at most 4 bytes each.
MAX_STORED_CHARS = 1000
MAX_READ_BYTES = MAX_STORED_CHARS * 4
# A run's `response_excerpt`: the first 1 KB of the body, when the body is text.
EXCERPT_BYTES = 1024
USER_AGENT = f"cron-job-backend/{APP_VERSION}"
_TEXT_TYPES = ("json", "xml", "javascript", "x-www-form-urlencoded")


# httpcore 1.0's pool walks all of its connections, some steps once per connection, and polls
# each idle socket, whenever a request joins or leaves it, so a request's CPU grows with the pool
# (figures: docs/PERFORMANCE.md, "Figures behind the code"). So the outbound connections are split
# into small pools that act as one.
CONNECTIONS_PER_POOL = 5


def total_connections(settings: Settings) -> int:
    """Outbound connections a process may hold open at once."""
    return max(100, settings.SCHEDULER_MAX_CONCURRENT_RUNS * 2)


def _pool_limits() -> httpx.Limits:
    # Keep-alive as many as the pool holds: httpcore closes an idle connection whenever the pool
    # holds more connections in all than it may keep alive, so a smaller number means reconnects.
    return httpx.Limits(max_connections=CONNECTIONS_PER_POOL, max_keepalive_connections=CONNECTIONS_PER_POOL,
                        keepalive_expiry=30)


def outbound_transport(limits: httpx.Limits, ssl_context: ssl.SSLContext, *, guarded: bool) -> httpx.AsyncHTTPTransport:
    """An httpx transport on our asyncio network layer, opening sockets through the address guard
    unless private targets are allowed.

    httpx 0.28 has no public parameter for an httpcore network backend (encode/httpx#3749 adds
    one), so the pool the transport built is replaced with an identical one that has our
    backend. This is the only place that touches the private `_pool` attribute.
    """
    transport = httpx.AsyncHTTPTransport(verify=ssl_context, trust_env=False, limits=limits)
    backend: httpcore.AsyncNetworkBackend = AsyncioBackend()
    transport._pool = httpcore.AsyncConnectionPool(  # noqa: SLF001 - see docstring
        ssl_context=ssl_context,
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        http1=True,
        http2=False,
        network_backend=GuardedNetworkBackend(backend) if guarded else backend,
    )
    return transport


class _Release(httpx.AsyncByteStream):
    """A response body that gives its pool's slot back when closed (the connection is free again)."""

    def __init__(self, stream: httpx.AsyncByteStream, release: Callable[[], None]) -> None:
        self._stream = stream
        self._release: Callable[[], None] | None = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            if self._release is not None:
                release = self._release
                self._release = None
                release()


class PooledTransports(httpx.AsyncBaseTransport):
    """Several small transports used as one: each request goes to the least busy one.

    Ties go to the first, so a quiet client keeps reusing the same few connections.
    """

    def __init__(self, transports: list[httpx.AsyncHTTPTransport]) -> None:
        self.transports = transports
        self.busy = [0] * len(transports)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        index = self.busy.index(min(self.busy))
        self.busy[index] += 1

        def release() -> None:
            self.busy[index] -= 1

        try:
            response = await self.transports[index].handle_async_request(request)
        except BaseException:
            release()
            raise
        assert isinstance(response.stream, httpx.AsyncByteStream)
        return httpx.Response(response.status_code, headers=response.headers,
                              stream=_Release(response.stream, release), extensions=response.extensions)

    async def aclose(self) -> None:
        for transport in self.transports:
            await transport.aclose()


def create_http_client(settings: Settings) -> httpx.AsyncClient:
    """One client per process; private targets reachable only when the setting allows them."""
    limits = _pool_limits()
    # One TLS context for all pools: loading the CA bundle costs tens of milliseconds each time.
    ssl_context = httpx.create_ssl_context(verify=True, trust_env=False)
    pools = -(-total_connections(settings) // CONNECTIONS_PER_POOL)
    transports = [
        outbound_transport(limits, ssl_context, guarded=not settings.allow_private_targets) for _ in range(pools)
    ]
    return httpx.AsyncClient(
        transport=PooledTransports(transports),
        timeout=httpx.Timeout(settings.OUTBOUND_TIMEOUT_SECONDS),
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT},
        # Environment proxies would make the guard check the proxy instead of the target.
        trust_env=False,
    )


@dataclass(frozen=True)
class CappedResponse:
    status_code: int
    text: str
    # The first EXCERPT_BYTES of the body as text; None when the body is not text.
    excerpt: str | None = None
    retry_after: str | None = None


def _is_text(content_type: str | None, raw: bytes) -> bool:
    """Text by its declared type; without one, when the bytes decode as UTF-8 (a cut last character aside)."""
    if content_type:
        media = content_type.split(";", 1)[0].strip().lower()
        return media.startswith("text/") or any(kind in media for kind in _TEXT_TYPES)
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= len(raw) - 3 and exc.reason == "unexpected end of data"
    return True


async def send_capped(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    json: object | None = None,
    content: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float | None = None,
) -> CappedResponse:
    """Send one request and read at most MAX_READ_BYTES of the body (a huge body is not loaded)."""
    request = client.build_request(
        method, url, json=json, content=content, headers=headers,
        timeout=httpx.USE_CLIENT_DEFAULT if timeout is None else timeout,
    )
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
    return capped_response(response.status_code, response.headers, b"".join(chunks))


def capped_response(status_code: int, headers: Mapping[str, str], body: bytes) -> CappedResponse:
    """The stored parts of an answer: its first MAX_READ_BYTES decoded in its charset, the excerpt when text.

    `headers` answers lowercase names (httpx.Headers, or a dict of lowercase names).
    """
    raw = body[:MAX_READ_BYTES]
    encoding = _charset(headers.get("content-type")) or "utf-8"
    try:
        text = raw.decode(encoding, errors="replace")
        head = raw[:EXCERPT_BYTES].decode(encoding, errors="ignore")
    except LookupError:
        text = raw.decode("utf-8", errors="replace")
        head = raw[:EXCERPT_BYTES].decode("utf-8", errors="ignore")
    excerpt = head if _is_text(headers.get("content-type"), raw[:EXCERPT_BYTES]) else None
    return CappedResponse(status_code, text[:MAX_STORED_CHARS], excerpt, headers.get("retry-after"))


def _charset(content_type: str | None) -> str | None:
    """The charset parameter of a Content-Type, read as httpx's `Response.charset_encoding` reads it."""
    if not content_type or "charset" not in content_type.lower():
        return None
    message = email.message.Message()
    message["content-type"] = content_type
    return message.get_content_charset(failobj=None)


def describe_error(exc: BaseException) -> str:
    """Readable text for an outbound failure (httpx timeouts often carry an empty message)."""
    text = str(exc).strip()
    if isinstance(exc, httpx.TimeoutException):
        kind = type(exc).__name__
        return f"Request timed out ({kind}): {text}" if text else f"Request timed out ({kind})"
    return text or type(exc).__name__


def is_transient(exc: BaseException) -> bool:
    """A network failure another attempt may not meet (not a refused URL or address)."""
    if not isinstance(exc, httpx.TransportError) or isinstance(exc, httpx.UnsupportedProtocol):
        return False
    return not isinstance(exc.__cause__, BlockedAddress)

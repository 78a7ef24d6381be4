"""Every outbound HTTP call through aiohttp (runs' and test-runs' webhook calls, GitHub dispatches, Slack
posts): keep-alive connections, bounded reads, the address guard.

A scheduled burst spends most of its event-loop time in the outbound call: through httpx and
httpcore a loopback webhook call cost about 0.8 ms of CPU, through aiohttp (C-accelerated HTTP
parser) about 0.13 ms (docs/PERFORMANCE.md, "Runs' calls through aiohttp").

It keeps the outbound rules the httpx client had before it: the URL sent as httpx sends it, the address guard
(`url_guard.resolve_public` as the connector's resolver, so the socket opens to a checked IP and
TLS verifies the hostname), no redirects followed, at most MAX_READ_BYTES read, a bounded number
of connections, no cookies kept between calls, and httpx's exception types, so callers classify
failures as before.
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import json
import re
import socket
import ssl
import weakref
from typing import Any

import aiohttp
import httpcore
import httpx
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.client_proto import ResponseHandler
from httpcore._utils import is_socket_readable  # the check httpcore's own pool uses
from yarl import URL

from src.config import Settings
from src.integrations.http_client import (
    MAX_READ_BYTES,
    USER_AGENT,
    CappedResponse,
    capped_response,
    total_connections,
)
from src.integrations.url_guard import BlockedAddress, blocked_message, is_public_address, resolve_public

# Built once: `json.dumps` with options builds an encoder per call.
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def encode_json(value: Any) -> bytes:
    """JSON bytes exactly as httpx sends a `json=` body (so a signed body is the one sent)."""
    return _JSON.encode(value).encode()


# Idle connections older than this are closed, swept by aiohttp even for an origin not called again.
KEEPALIVE_SECONDS = 30.0
_SCHEMES = ("http", "https")
_DEFAULT_HEADERS = {"User-Agent": USER_AGENT, "Accept": "*/*", "Accept-Encoding": "gzip, deflate"}
# aiohttp would label a bytes body `application/octet-stream`; httpx sent none, so neither do we.
_NO_AUTO_HEADERS = ("Content-Type",)


class GuardedResolver(AbstractResolver):
    """Every address a host resolves to, or BlockedAddress when one of them is not public."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        addresses = await resolve_public(host, port, self.timeout)
        return [ResolveResult(hostname=host, host=address, port=port,
                              family=socket.AF_INET6 if ":" in address else socket.AF_INET, proto=0, flags=0)
                for address in addresses]

    async def close(self) -> None:
        """Nothing to release."""


def _refuse_private_literal(host: str) -> None:
    """aiohttp connects to an IP literal without asking the resolver, so the guard checks it here."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return
    if not is_public_address(address):
        raise BlockedAddress(blocked_message(host))


class FreshConnector(aiohttp.TCPConnector):
    """Hands out an idle connection again only if the server has not closed it or written to it since.

    aiohttp drops an idle connection once the event loop has seen it close, but not one whose close (or
    a `408` before it) is still in the socket: a POST on it would fail ("Can not write request body"),
    and aiohttp retries only idempotent methods. httpx's pool made the same check before reuse. A new
    connection is not checked (a TLS 1.3 session ticket may be waiting in it).
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._handed_out: weakref.WeakSet[ResponseHandler] = weakref.WeakSet()

    async def connect(self, req: aiohttp.ClientRequest, traces: list[Any],
                      timeout: aiohttp.ClientTimeout) -> aiohttp.connector.Connection:
        while True:  # ends at the first fresh idle connection, else a new one
            connection = await super().connect(req, traces, timeout)
            protocol = connection.protocol
            if protocol is None or protocol not in self._handed_out:
                if protocol is not None:
                    self._handed_out.add(protocol)
                return connection
            if not _stale(protocol):
                return connection
            connection.close()


def _stale(protocol: ResponseHandler) -> bool:
    transport = protocol.transport
    if transport is None or protocol.should_close:
        return True
    sock = transport.get_extra_info("socket")
    return sock is not None and is_socket_readable(sock)


# A URL that httpx would send unchanged: yarl sends it unchanged too (no escapes, nothing to quote).
_PLAIN_URL = re.compile(r"https?://[a-z0-9.-]+(?::[0-9]{1,5})?(/[a-z0-9._~/-]*)?(\?[a-z0-9._~=&-]*)?",
                        re.IGNORECASE)


def request_url(url: str) -> tuple[URL, str | None]:
    """The URL as httpx would send it, without its user info, and the Basic authorization that user info
    stands for. yarl alone would requote some URLs differently (`%41` -> `A`, `%2F` -> `/` in a query),
    so any URL but a plain one goes through httpx.URL first (~30 us)."""
    if _PLAIN_URL.fullmatch(url):
        target = URL(url)
    else:
        try:
            target = URL(str(httpx.URL(url)), encoded=True)
        except ValueError as exc:
            raise httpx.InvalidURL(str(exc)) from exc
    if target.scheme not in _SCHEMES:
        raise httpx.UnsupportedProtocol(f"Request URL has an unsupported protocol '{target.scheme}://'.")
    if not target.raw_host:
        raise httpx.UnsupportedProtocol("Request URL is missing a host.")
    if target.raw_user is None and target.raw_password is None:
        return target, None
    token = base64.b64encode(f"{target.user or ''}:{target.password or ''}".encode()).decode("ascii")
    return target.with_user(None), f"Basic {token}"


def _mapped_error(exc: BaseException, *, answered: bool) -> httpx.HTTPError | httpx.InvalidURL | None:
    """aiohttp's error as the httpx error callers classify (empty text for timeouts, as httpx's), or None."""
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout("")
    if isinstance(exc, aiohttp.SocketTimeoutError):
        return httpx.ReadTimeout("")
    if isinstance(exc, TimeoutError):
        # The total bound: the read timer starts once the request is written, so before the answer a
        # stalled write is what ran out.
        return httpx.ReadTimeout("") if answered else httpx.WriteTimeout("")
    if isinstance(exc, httpcore.ConnectTimeout):  # the guard's resolution
        return httpx.ConnectTimeout(str(exc))
    if isinstance(exc, httpcore.ConnectError):  # the guard's refusal, or a name that does not resolve
        return httpx.ConnectError(str(exc))
    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx.ConnectError(str(exc.os_error) or str(exc))
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return httpx.RemoteProtocolError("Server disconnected without sending a response.")
    if isinstance(exc, aiohttp.ClientPayloadError):
        if "content-encoding" in str(exc).lower():
            return httpx.DecodingError("Error decoding the response body")
        return httpx.RemoteProtocolError(str(exc) or "Incomplete response body.")
    if isinstance(exc, aiohttp.ClientResponseError):  # a malformed status line or header
        return httpx.RemoteProtocolError(exc.message or str(exc))
    if isinstance(exc, aiohttp.InvalidURL):
        return httpx.InvalidURL(str(exc))
    if isinstance(exc, aiohttp.ClientConnectionError):
        return (httpx.ReadError if answered else httpx.WriteError)(str(exc) or type(exc).__name__)
    if isinstance(exc, ValueError) and "header" in str(exc).lower():  # aiohttp refuses a line break in one
        return httpx.LocalProtocolError(str(exc))
    return None


class RunCallClient:
    """One aiohttp session: keep-alive connections per origin, at most `max_connections` in use at once."""

    def __init__(self, *, ssl_context: ssl.SSLContext, guarded: bool, timeout: float, max_connections: int,
                 keepalive_seconds: float = KEEPALIVE_SECONDS) -> None:
        self.ssl_context = ssl_context
        self.guarded = guarded
        self.timeout = timeout
        self.max_connections = max_connections
        self.keepalive_seconds = keepalive_seconds
        # A wait here is the pool timeout (aiohttp's own wait for a connection reads as a connect timeout).
        self._slots = asyncio.Semaphore(max_connections)
        self._session: aiohttp.ClientSession | None = None
        self._timeouts: dict[float, aiohttp.ClientTimeout] = {}

    def _open_session(self) -> aiohttp.ClientSession:
        """The session, made on first use: aiohttp binds it to the running event loop."""
        resolver = GuardedResolver(self.timeout) if self.guarded else aiohttp.ThreadedResolver()
        connector = FreshConnector(limit=self.max_connections, limit_per_host=0, ssl=self.ssl_context,
                                         resolver=resolver, keepalive_timeout=self.keepalive_seconds)
        self._session = aiohttp.ClientSession(
            connector=connector, headers=_DEFAULT_HEADERS, skip_auto_headers=_NO_AUTO_HEADERS,
            # Calls of different jobs to one host must not share cookies; environment proxies would make
            # the guard check the proxy instead of the target.
            cookie_jar=aiohttp.DummyCookieJar(), trust_env=False, auto_decompress=True,
        )
        return self._session

    def _timeout(self, seconds: float) -> aiohttp.ClientTimeout:
        """httpx's per-phase bounds (connect, read); aiohttp has no write timeout, so the total bounds the
        three phases together."""
        timeout = self._timeouts.get(seconds)
        if timeout is None:
            timeout = aiohttp.ClientTimeout(total=3 * seconds, connect=seconds, sock_connect=seconds,
                                            sock_read=seconds)
            self._timeouts[seconds] = timeout
        return timeout

    async def send_capped(self, method: str, url: str, *, headers: dict[str, str], content: bytes | None,
                          timeout: float | None = None) -> CappedResponse:
        """One request; the status, headers and at most MAX_READ_BYTES of the body. Raises httpx errors."""
        seconds = self.timeout if timeout is None else timeout
        target, authorization = request_url(url)
        if authorization is not None and not any(name.lower() == "authorization" for name in headers):
            headers = {"Authorization": authorization, **headers}
        if self.guarded:
            try:
                _refuse_private_literal(target.raw_host or "")
            except BlockedAddress as exc:
                raise httpx.ConnectError(str(exc)) from exc
        if self._slots.locked():  # only a full client waits (and pays for a timeout)
            try:
                async with asyncio.timeout(seconds):
                    await self._slots.acquire()
            except TimeoutError as exc:
                raise httpx.PoolTimeout("") from exc
        else:
            await self._slots.acquire()
        try:
            return await self._exchange(method, target, headers, content, seconds)
        finally:
            self._slots.release()

    async def send_json(self, method: str, url: str, body: object, *, headers: dict[str, str] | None = None,
                        timeout: float | None = None) -> CappedResponse:
        """`send_capped` with `body` as httpx's `json=` sends it: compact UTF-8 JSON, `Content-Type:
        application/json` unless `headers` name one."""
        sent = dict(headers or {})
        if not any(name.lower() == "content-type" for name in sent):
            sent["Content-Type"] = "application/json"
        return await self.send_capped(method, url, headers=sent, content=encode_json(body), timeout=timeout)

    async def _exchange(self, method: str, target: URL, headers: dict[str, str], content: bytes | None,
                        seconds: float) -> CappedResponse:
        session = self._session or self._open_session()
        answered = False
        try:
            response = await session.request(method, target, headers=headers, data=content,
                                             allow_redirects=False, timeout=self._timeout(seconds))
            answered = True
            try:
                chunks: list[bytes] = []
                size = 0
                while size < MAX_READ_BYTES and (chunk := await response.content.read(MAX_READ_BYTES - size)):
                    chunks.append(chunk)
                    size += len(chunk)
            finally:
                # Back to the pool when the body was read to its end, else closed (never reused mid-body).
                response.release()
        except (aiohttp.ClientError, TimeoutError, ValueError, httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
            mapped = _mapped_error(exc, answered=answered)
            if mapped is None:
                raise
            raise mapped from exc
        return capped_response(response.status, response.headers, b"".join(chunks))

    async def aclose(self) -> None:
        """Close every connection (idle or not)."""
        if self._session is not None:
            await self._session.close()
            self._session = None


def create_run_call_client(settings: Settings) -> RunCallClient:
    """The process's client for runs' webhook calls; private targets reachable only when the setting allows them."""
    return RunCallClient(ssl_context=httpx.create_ssl_context(verify=True, trust_env=False),
                         guarded=not settings.allow_private_targets, timeout=float(settings.OUTBOUND_TIMEOUT_SECONDS),
                         max_connections=total_connections(settings))

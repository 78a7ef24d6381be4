"""A small HTTP/1.1 client for the runs' webhook calls: keep-alive connections, bounded reads, the address guard.

A scheduled burst spends most of its event-loop time in the outbound call: through httpx and
httpcore a loopback webhook call cost about 1 ms of CPU, most of it request and response models,
the pool's bookkeeping and h11's state machine (docs/PERFORMANCE.md, fourth pass). A run's call
is simple (one request, no redirects, a body read of at most 4 KB), so this client writes the
request bytes itself and parses the answer's head and body framing (Content-Length, chunked,
until close) for about 5% of that.

It keeps the outbound rules of `http_client`: the same URL parsing (httpx.URL) and address
guard (`url_guard.resolve_public` at connect time, the socket opened to the checked IP, TLS
verifying the hostname), no redirects followed, at most MAX_READ_BYTES read, a bounded number of
connections, and httpx's exception types, so callers classify failures as before.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import re
import socket
import ssl
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

import httpcore
import httpx
from httpcore._utils import is_socket_readable  # the check httpcore's own pool uses

from src.config import Settings
from src.integrations.http_client import (
    MAX_READ_BYTES,
    USER_AGENT,
    CappedResponse,
    capped_response,
    total_connections,
)
from src.integrations.url_guard import resolve_public

# Idle connections older than this are closed instead of reused (httpx's client used the same).
KEEPALIVE_SECONDS = 30.0
READ_CHUNK = 64 * 1024
# A response head larger than this is refused (h11's default limit).
MAX_HEAD_BYTES = 16 * 1024
_DEFAULT_PORTS = {"http": 80, "https": 443}
_NO_BODY_STATUS = (204, 304)
_BAD_HEADER_CHARACTERS = ("\r", "\n", "\0")


@contextmanager
def _mapped(timeout_error: type[httpx.TransportError], os_error: type[httpx.TransportError]) -> Iterator[None]:
    """asyncio and socket errors as the httpx errors the callers classify (empty text for timeouts, as httpx's)."""
    try:
        yield
    except TimeoutError as exc:
        raise timeout_error("") from exc
    except (httpcore.ConnectTimeout, httpcore.ConnectError) as exc:  # from the guard's resolution
        raise (httpx.ConnectTimeout if isinstance(exc, httpcore.ConnectTimeout) else httpx.ConnectError)(
            str(exc)) from exc
    except (OSError, EOFError, ssl.SSLError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
        raise os_error(str(exc) or type(exc).__name__) from exc


class _Connection:
    """One open connection and when it last finished a response."""

    __slots__ = ("idle_since", "reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.idle_since = 0.0

    def reusable(self, now: float) -> bool:
        """Still open and fresh. An idle connection the server closed or wrote to (a `408` before the close) is
        not reused: the event loop has either buffered what came (EOF, bytes) or not yet (the socket is readable)."""
        reader = self.reader
        buffered: bytes = getattr(reader, "_buffer", b"")  # StreamReader has no public peek
        if (now - self.idle_since > KEEPALIVE_SECONDS or buffered
                or reader.at_eof() or reader.exception() is not None or self.writer.is_closing()):
            return False
        sock = self.writer.get_extra_info("socket")
        return sock is not None and not is_socket_readable(sock)

    def close(self) -> None:
        with contextlib.suppress(Exception):  # closing a broken connection: closed either way
            self.writer.close()


class Http1Client:
    """Keep-alive connections per origin, at most `max_connections` open at once."""

    def __init__(self, *, ssl_context: ssl.SSLContext, guarded: bool, timeout: float, max_connections: int) -> None:
        self.ssl_context = ssl_context
        self.guarded = guarded
        self.timeout = timeout
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._slots = asyncio.Semaphore(max_connections)
        self._open: set[_Connection] = set()
        self._swept_at = time.monotonic()

    async def send_capped(self, method: str, url: str, *, headers: dict[str, str], content: bytes | None,
                          timeout: float | None = None) -> CappedResponse:
        """One request; the status, headers and at most MAX_READ_BYTES of the body. Raises httpx errors."""
        seconds = self.timeout if timeout is None else timeout
        scheme, host, port, path, authorization = parse_target(url)
        if authorization is not None and not any(name.lower() == "authorization" for name in headers):
            headers = {"Authorization": authorization, **headers}
        request = _encode_request(method, scheme, host, port, path, headers, content)
        if self._slots.locked():  # only a full client waits (and pays for a timeout)
            try:
                async with asyncio.timeout(seconds):
                    await self._slots.acquire()
            except TimeoutError as exc:
                raise httpx.PoolTimeout("") from exc
        else:
            await self._slots.acquire()
        try:
            origin = (scheme, host, port)
            connection = await self._connection(origin, seconds)
            try:
                response, keep = await _exchange(connection, request, method, seconds)
            except BaseException:
                self._discard(connection)
                raise
            if keep:
                connection.idle_since = time.monotonic()
                self._idle.setdefault(origin, []).append(connection)
            else:
                self._discard(connection)
            return response
        finally:
            self._slots.release()

    async def _connection(self, origin: tuple[str, str, int], seconds: float) -> _Connection:
        now = time.monotonic()
        if now - self._swept_at > KEEPALIVE_SECONDS:
            self.sweep(now)
        idle = self._idle.get(origin)
        while idle:
            connection = idle.pop()
            if connection.reusable(now):
                return connection
            self._discard(connection)
        scheme, host, port = origin
        with _mapped(httpx.ConnectTimeout, httpx.ConnectError):
            async with asyncio.timeout(seconds):
                addresses = await resolve_public(host, port, seconds) if self.guarded else [host]
                connection = await self._open_first(addresses, port, scheme, host)
        self._open.add(connection)
        return connection

    async def _open_first(self, addresses: list[str], port: int, scheme: str, host: str) -> _Connection:
        last_error: Exception | None = None
        for address in addresses:
            try:
                reader, writer = await asyncio.open_connection(
                    address, port, limit=READ_CHUNK,
                    ssl=self.ssl_context if scheme == "https" else None,
                    server_hostname=host if scheme == "https" else None,
                )
            except OSError as exc:
                last_error = exc
                continue
            sock = writer.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return _Connection(reader, writer)
        assert last_error is not None
        raise last_error

    def sweep(self, now: float) -> None:
        """Close the idle connections no longer reusable, of every origin (one not called again keeps none open)."""
        self._swept_at = now
        for origin, idle in list(self._idle.items()):
            keep = [connection for connection in idle if connection.reusable(now)]
            for connection in idle:
                if connection not in keep:
                    self._discard(connection)
            if keep:
                self._idle[origin] = keep
            else:
                del self._idle[origin]

    def _discard(self, connection: _Connection) -> None:
        self._open.discard(connection)
        connection.close()

    async def aclose(self) -> None:
        """Close every connection (idle or not)."""
        for connection in list(self._open):
            self._discard(connection)
        self._idle.clear()


# A URL that httpx would send unchanged: lowercase-able host, no escapes, no characters to quote.
_PLAIN_URL = re.compile(r"(https?)://([a-z0-9.-]+)(?::([0-9]{1,5}))?(/[a-z0-9._~/-]*)?(\?[a-z0-9._~=&-]*)?",
                        re.IGNORECASE)


def parse_target(url: str) -> tuple[str, str, int, str, str | None]:
    """Scheme, host, port, request target and the Basic authorization of the URL's user info, as httpx parses
    them (a plain URL skips httpx.URL: ~30 us)."""
    plain = _PLAIN_URL.fullmatch(url)
    if plain is not None and int(plain[3] or 0) <= 65535:
        scheme = plain[1].lower()
        port = int(plain[3] or _DEFAULT_PORTS[scheme])
        return scheme, plain[2].lower(), port, (plain[4] or "/") + (plain[5] or ""), None
    target = httpx.URL(url)
    scheme = target.scheme
    if scheme not in _DEFAULT_PORTS:
        raise httpx.UnsupportedProtocol(f"Request URL has an unsupported protocol '{scheme}://'.")
    host = target.raw_host.decode("ascii")
    if not host:
        raise httpx.UnsupportedProtocol("Request URL is missing a host.")
    authorization = None
    if target.username or target.password:
        token = base64.b64encode(f"{target.username}:{target.password}".encode()).decode("ascii")
        authorization = f"Basic {token}"
    return scheme, host, target.port or _DEFAULT_PORTS[scheme], target.raw_path.decode("ascii") or "/", authorization


def _encode_request(method: str, scheme: str, host: str, port: int, path: str, headers: dict[str, str],
                    content: bytes | None) -> bytes:
    """The request's bytes: our default headers, the job's (which replace a default of the same name), the body."""
    authority = f"[{host}]" if ":" in host else host
    if port != _DEFAULT_PORTS[scheme]:
        authority = f"{authority}:{port}"
    fields = {"host": ("Host", authority), "accept": ("Accept", "*/*"),
              "accept-encoding": ("Accept-Encoding", "gzip, deflate"), "connection": ("Connection", "keep-alive"),
              "user-agent": ("User-Agent", USER_AGENT)}
    for name, value in headers.items():
        if any(c in name or c in value for c in _BAD_HEADER_CHARACTERS) or ":" in name or not name.strip():
            raise httpx.LocalProtocolError(f"Invalid header {name!r}")
        fields[name.lower()] = (name, value)
    if content is not None or method in ("POST", "PUT", "PATCH"):
        fields["content-length"] = ("Content-Length", str(len(content or b"")))
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{name}: {value}\r\n" for name, value in fields.values())
    return (head + "\r\n").encode("latin-1") + (content or b"")


async def _exchange(connection: _Connection, request: bytes, method: str,
                    seconds: float) -> tuple[CappedResponse, bool]:
    """Send the request and read the answer; the response and whether the connection can be reused."""
    reader = connection.reader
    writer = connection.writer
    with _mapped(httpx.WriteTimeout, httpx.WriteError):
        writer.write(request)
        if writer.transport.get_write_buffer_size():  # only a request the socket did not take at once waits
            async with asyncio.timeout(seconds):
                await writer.drain()
    with _mapped(httpx.ReadTimeout, httpx.ReadError):
        async with asyncio.timeout(seconds):
            while True:
                status, headers, keep = _parse_head(await _read_head(reader))
                if not 100 <= status < 200:
                    break
            raw, complete = await _read_body(reader, method, status, headers)
    return capped_response(status, headers, _decoded(raw, headers)), keep and complete


async def _read_head(reader: asyncio.StreamReader) -> bytes:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.") from exc
    except asyncio.LimitOverrunError as exc:
        raise httpx.RemoteProtocolError("Response head too large.") from exc
    if len(head) > MAX_HEAD_BYTES:
        raise httpx.RemoteProtocolError("Response head too large.")
    return head


def _parse_head(head: bytes) -> tuple[int, dict[str, str], bool]:
    """Status, headers and whether the server keeps the connection open."""
    lines = head[:-4].decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    code = rest[:3]
    if not version.startswith("HTTP/1.") or not code.isdigit():
        raise httpx.RemoteProtocolError(f"Malformed status line: {lines[0][:100]!r}")
    # Lowercase names; a repeated header's values joined by commas, as httpx.Headers reads them.
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():
            raise httpx.RemoteProtocolError(f"Malformed header line: {line[:100]!r}")
        name, value = name.lower(), value.strip()
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    connection = headers.get("connection", "").lower()
    keep = "close" not in connection if version == "HTTP/1.1" else "keep-alive" in connection
    return int(code), headers, keep


async def _read_body(reader: asyncio.StreamReader, method: str, status: int,
                     headers: dict[str, str]) -> tuple[bytes, bool]:
    """At most MAX_READ_BYTES of the body, and whether it was read to its end (the connection is reusable)."""
    if method == "HEAD" or status in _NO_BODY_STATUS:
        return b"", True
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return await _read_chunked(reader)
    length = headers.get("content-length")
    if length is not None:
        if not length.isdigit():
            raise httpx.RemoteProtocolError(f"Invalid Content-Length: {length[:40]!r}")
        wanted = int(length)
        raw = await reader.readexactly(min(wanted, MAX_READ_BYTES))
        return raw, wanted <= MAX_READ_BYTES
    raw = b""
    while len(raw) < MAX_READ_BYTES and (chunk := await reader.read(MAX_READ_BYTES - len(raw))):
        raw += chunk
    return raw, False  # the body ends when the server closes: never reused


async def _read_chunked(reader: asyncio.StreamReader) -> tuple[bytes, bool]:
    parts: list[bytes] = []
    size = 0
    while size < MAX_READ_BYTES:
        line = await reader.readuntil(b"\r\n")
        try:
            chunk_size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError as exc:
            raise httpx.RemoteProtocolError("Malformed chunk size.") from exc
        if chunk_size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers
                pass
            return b"".join(parts), True
        take = min(chunk_size, MAX_READ_BYTES - size)
        parts.append(await reader.readexactly(take))
        size += take
        if take < chunk_size:
            break
        await reader.readexactly(2)
    return b"".join(parts), False


def _decoded(raw: bytes, headers: dict[str, str]) -> bytes:
    """The body with its gzip/deflate content coding undone (capped), as httpx decodes it."""
    coding = headers.get("content-encoding", "").strip().lower()
    if coding in ("gzip", "x-gzip", "deflate"):
        wbits = zlib.MAX_WBITS | 16 if coding != "deflate" else zlib.MAX_WBITS
        try:
            return zlib.decompressobj(wbits).decompress(raw, MAX_READ_BYTES)
        except zlib.error:
            with contextlib.suppress(zlib.error):
                return zlib.decompressobj(-zlib.MAX_WBITS).decompress(raw, MAX_READ_BYTES)
            raise httpx.DecodingError("Error decoding the response body") from None
    return raw


def create_http1_client(settings: Settings) -> Http1Client:
    """The process's client for runs' webhook calls; private targets reachable only when the setting allows them."""
    return Http1Client(ssl_context=httpx.create_ssl_context(verify=True, trust_env=False),
                       guarded=not settings.allow_private_targets, timeout=float(settings.OUTBOUND_TIMEOUT_SECONDS),
                       max_connections=total_connections(settings))

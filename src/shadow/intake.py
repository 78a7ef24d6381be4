"""How a sampled /api read reaches the comparer: one UDP datagram from nginx, sent after the answer.

nginx writes a log line in the `shadow_read` format (rendered by src/deploy/nginx.py from the
names below) to syslog on 127.0.0.1, FASTAPI_PORT over UDP, for each sampled GET/HEAD under
/api/, once the client has its answer. A datagram never waits for anyone: while the comparer
is busy the kernel queues datagrams, and beyond its receive buffer it drops them. So the
comparer's pace never reaches a client, unlike nginx's `mirror`, which holds the client's
connection until the comparer has answered its subrequest. The datagram travels on loopback
only and is never written anywhere.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

# The client's headers a read's answer may depend on, replayed to both doors. Everything else a
# client sends (cookies, user agent, forwarding headers) changes no /api read, so it is not sent.
FORWARDED_HEADERS = ("Authorization", "Accept", "Accept-Language", "If-None-Match", "If-Modified-Since")
# Comparer.offer: method, URI, headers, the other client requests in flight.
Offer = Callable[[str, str, dict[str, str], int], object]
LOG_FORMAT_NAME = "shadow_read"
SYSLOG_TAG = "shadow"


def nginx_variable(header: str) -> str:
    """`If-None-Match` → `$http_if_none_match`."""
    return "$http_" + header.lower().replace("-", "_")


def nginx_log_format() -> str:
    """The `log_format` directive whose lines `parse_datagram` reads (JSON-escaped by nginx)."""
    # $connections_writing (stub_status module, in every distribution's build), read as the request
    # is logged: the other requests nginx is serving, this one no longer counted.
    parts = ['{"method":"$request_method","uri":"$request_uri","in_flight":"$connections_writing",',
             '"request_id":"$forwarded_request_id","headers":{',
             *(f'"{name}":"{nginx_variable(name)}"' + ("," if index < len(FORWARDED_HEADERS) - 1 else "")
               for index, name in enumerate(FORWARDED_HEADERS)), "}}"]
    indent = "\n" + " " * len(f"    log_format {LOG_FORMAT_NAME} escape=json ")
    return f"log_format {LOG_FORMAT_NAME} escape=json " + indent.join(f"'{part}'" for part in parts) + ";"


@dataclass(frozen=True)
class MirroredRequest:
    method: str
    uri: str
    headers: dict[str, str]
    # Other client requests nginx was serving as this one was logged ($connections_writing then).
    others_in_flight: int = 0


def parse_datagram(data: bytes) -> MirroredRequest | None:
    """`<190>Dec  4 21:34:09 shadow: {...}` → the request it describes; None when it is not one."""
    # latin-1: every byte maps to one character, so a raw non-ASCII byte in a URI survives.
    text = data.decode("latin-1")
    start = text.find("{")
    try:
        fields = json.loads(text[start:]) if start >= 0 else None
    except ValueError:
        return None
    if not isinstance(fields, dict):
        return None
    method, uri, request_id, sent = (fields.get(key) for key in ("method", "uri", "request_id", "headers"))
    if not (isinstance(method, str) and isinstance(uri, str) and isinstance(sent, dict)):
        return None
    # nginx logs an absent header as "": an empty header changes no answer either.
    headers = {name: value for name, value in sent.items() if name in FORWARDED_HEADERS and value and
               isinstance(value, str)}
    if isinstance(request_id, str) and request_id:
        headers["X-Request-ID"] = request_id
    in_flight = fields.get("in_flight")
    others = int(in_flight) if isinstance(in_flight, str) and in_flight.isdigit() else 0
    return MirroredRequest(method, uri, headers, others)


class MirrorDatagrams(asyncio.DatagramProtocol):
    """Hands each datagram's request to `offer`; a malformed one is dropped (only nginx sends here)."""

    def __init__(self, offer: Offer) -> None:
        self.offer = offer

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        request = parse_datagram(data)
        if request is None:
            log.debug("shadow read intake: a datagram of %d bytes is no mirrored request", len(data))
            return
        self.offer(request.method, request.uri, request.headers, request.others_in_flight)

    def error_received(self, exc: Exception) -> None:
        log.debug("shadow read intake: %s", exc)


async def listen(port: int, offer: Offer) -> asyncio.DatagramTransport | None:
    """Bind 127.0.0.1:`port`/udp; None (and a warning) when another process holds it."""
    try:
        transport, _protocol = await asyncio.get_running_loop().create_datagram_endpoint(
            lambda: MirrorDatagrams(offer), local_addr=("127.0.0.1", port))
    except OSError as exc:
        log.warning("shadow reads: cannot listen on 127.0.0.1:%d/udp (%s); this process compares nothing",
                    port, exc)
        return None
    return transport

"""The comparer's intake: nginx's shadow_read datagrams parsed, and received on a real UDP socket."""

from __future__ import annotations

import asyncio
import socket

import pytest

from src.shadow.intake import listen, nginx_log_format, parse_datagram

# As nginx 1.22 sends it (escape=json): a quote and a backslash escaped, an absent header empty.
SENT = (b'<190>Dec  4 21:34:09 shadow: {"method":"GET","uri":"/api/jobs?q=a%22b&z=\\\\","in_flight":"3",'
        b'"request_id":"abc123","headers":{"Authorization":"Bearer t\\"k","Accept":"",'
        b'"Accept-Language":"","If-None-Match":"W/\\"e1\\"","If-Modified-Since":""}}')


def test_a_datagram_gives_the_request_and_only_the_headers_it_had() -> None:
    request = parse_datagram(SENT)
    assert request is not None
    assert (request.method, request.uri) == ("GET", "/api/jobs?q=a%22b&z=\\")
    assert request.headers == {"Authorization": 'Bearer t"k', "If-None-Match": 'W/"e1"', "X-Request-ID": "abc123"}
    assert request.others_in_flight == 3


@pytest.mark.parametrize("sent", [b'"in_flight":"0"', b'"in_flight":""', b'"in_flight":"-1"'])
def test_a_zero_or_unreadable_in_flight_count_means_no_others(sent: bytes) -> None:
    request = parse_datagram(SENT.replace(b'"in_flight":"3"', sent))
    assert request is not None and request.others_in_flight == 0


def test_a_raw_non_ascii_byte_in_the_uri_survives() -> None:
    request = parse_datagram(SENT.replace(b"?q=", b"\xe9?q="))
    assert request is not None and request.uri.encode("latin-1").startswith(b"/api/jobs\xe9?q=")


def test_headers_nginx_was_not_told_to_send_are_dropped() -> None:
    request = parse_datagram(SENT.replace(b'"Accept":""', b'"Cookie":"session=1"'))
    assert request is not None and "Cookie" not in request.headers


@pytest.mark.parametrize("datagram", [b"", b"<190>Dec  4 shadow: no json", b'<190> shadow: {"method":',
                                      b'<190> shadow: ["GET"]', b'<190> shadow: {"method":"GET","uri":1,"headers":{}}'])
def test_anything_else_is_no_request(datagram: bytes) -> None:
    assert parse_datagram(datagram) is None


def test_the_log_format_writes_every_field_the_parser_reads() -> None:
    text = nginx_log_format()
    for variable in ("$request_method", "$request_uri", "$connections_writing", "$forwarded_request_id",
                     "$http_authorization"):
        assert variable in text
    assert text.startswith("log_format shadow_read escape=json ")


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_datagrams_on_the_port_reach_offer_and_a_taken_port_is_refused_quietly() -> None:
    port = free_udp_port()
    offered: list[tuple[str, str, int]] = []

    async def scenario() -> bool:
        transport = await listen(port, lambda method, uri, _headers, others: offered.append((method, uri, others)))
        assert transport is not None
        try:
            second = await listen(port, lambda *_: None)
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
                sender.sendto(SENT, ("127.0.0.1", port))
                sender.sendto(b"garbage", ("127.0.0.1", port))
            for _ in range(100):
                if offered:
                    break
                await asyncio.sleep(0.01)
            return second is None
        finally:
            transport.close()

    assert asyncio.run(scenario())
    assert offered == [("GET", "/api/jobs?q=a%22b&z=\\", 3)]

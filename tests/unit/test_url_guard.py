"""The outbound URL guard: address rules, resolution inside the transport, the Slack URL rule."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from src.config import Settings
from src.integrations import slack
from src.integrations.http_client import CappedResponse
from src.integrations.run_calls import create_run_call_client
from src.integrations.url_guard import BlockedAddress, is_public_address, resolve_public, url_problem
from tests.receivers import Receiver

NON_PUBLIC = [
    "127.0.0.1",
    "127.8.9.10",
    "10.0.0.1",
    "172.16.0.1",
    "172.31.255.254",
    "192.168.1.1",
    "100.64.0.1",
    "100.127.255.254",
    "169.254.169.254",
    "0.0.0.0",
    "224.0.0.1",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "198.18.0.1",
    "::1",
    "::",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "fc00::1",
    "fd12:3456::1",
    "fe80::1",
    "ff02::1",
    "ff0e::1",
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    "::127.0.0.1",  # IPv4-compatible loopback
]
PUBLIC = ["8.8.8.8", "1.1.1.1", "93.184.215.14", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]


@pytest.mark.parametrize("address", NON_PUBLIC)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert is_public_address(ipaddress.ip_address(address)) is False


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(address: str) -> None:
    assert is_public_address(ipaddress.ip_address(address)) is True


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "2130706433", "0177.0.0.1", "0x7f.0.0.1", "::1"])
def test_hosts_resolving_to_loopback_are_refused(host: str) -> None:
    with pytest.raises(BlockedAddress, match="Blocked outbound address"):
        asyncio.run(resolve_public(host, 80, timeout=5))


def test_url_problem_allows_only_http_and_https_with_a_host() -> None:
    assert url_problem("https://example.com/x") is None
    assert url_problem("http://example.com/x") is None
    assert url_problem("ftp://example.com/x") == "URL scheme must be http or https"
    assert url_problem("file:///etc/passwd") == "URL scheme must be http or https"
    assert url_problem("https:///path") == "URL has no host"
    assert url_problem("http://example.com", require_https=True) == "URL scheme must be https"


def _settings(allow_private: bool) -> Settings:
    return Settings(_env_file=None, ALLOW_PRIVATE_TARGETS=allow_private, OUTBOUND_TIMEOUT_SECONDS=5)  # type: ignore[call-arg]  # pydantic-settings' _env_file is no declared field


def test_slack_url_must_be_https_unless_private_targets_are_allowed() -> None:
    strict, relaxed = _settings(False), _settings(True)
    assert slack.callable_url(strict, "https://hooks.slack.com/services/x") is True
    assert slack.callable_url(strict, "http://hooks.slack.com/services/x") is False
    assert slack.callable_url(strict, "https:///services/x") is False
    assert slack.callable_url(strict, None) is False
    assert slack.callable_url(relaxed, "http://127.0.0.1:9/slack") is True
    assert slack.callable_url(relaxed, "ftp://127.0.0.1/slack") is False


# --- through the real client ---------------------------------------------------------------


@pytest.fixture
def loopback() -> Iterator[Receiver]:
    server = Receiver().start()
    try:
        yield server
    finally:
        server.stop()


def _get(settings: Settings, url: str) -> CappedResponse:
    async def main() -> CappedResponse:
        client = create_run_call_client(settings)
        try:
            return await client.send_capped("GET", url, headers={}, content=None)
        finally:
            await client.aclose()

    return asyncio.run(main())


def _loopback_urls(receiver: Receiver) -> list[str]:
    port = receiver.server.server_address[1]
    return [
        f"http://127.0.0.1:{port}/x",
        f"http://localhost:{port}/x",
        f"http://2130706433:{port}/x",
        f"http://[::ffff:127.0.0.1]:{port}/x",
    ]


def test_client_refuses_loopback_when_private_targets_are_off(loopback: Receiver) -> None:
    for url in _loopback_urls(loopback):
        # aiohttp refuses the integer spelling as an invalid URL before any address is looked at.
        with pytest.raises((httpx.ConnectError, httpx.InvalidURL), match="Blocked outbound address|canonical"):
            _get(_settings(False), url)
    assert loopback.requests == []


def test_client_refuses_the_octal_spelling_of_loopback(loopback: Receiver) -> None:
    port = loopback.server.server_address[1]
    with pytest.raises((httpx.InvalidURL, httpx.ConnectError)):
        _get(_settings(False), f"http://0177.0.0.1:{port}/x")
    assert loopback.requests == []


def test_client_reaches_loopback_when_private_targets_are_allowed(loopback: Receiver) -> None:
    for url in _loopback_urls(loopback)[:2]:
        assert _get(_settings(True), url).status_code == 200
    assert len(loopback.requests) == 2


def test_client_does_not_follow_redirects(loopback: Receiver) -> None:
    loopback.respond("/x", 302, b"", Location="http://169.254.169.254/latest/meta-data/")
    response = _get(_settings(True), f"{loopback.url}/x")
    assert response.status_code == 302
    assert [r.path for r in loopback.requests] == ["/x"]


def test_client_ignores_proxy_environment(loopback: Receiver, monkeypatch: Any) -> None:
    # A proxy would make the guard see the proxy's address instead of the target's.
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9")
    assert _get(_settings(True), f"{loopback.url}/x").status_code == 200

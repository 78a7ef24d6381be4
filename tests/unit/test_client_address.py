"""The client address rule both doors use: forwarded headers count only from a trusted proxy."""

from __future__ import annotations

import pytest

from src.config import Settings
from src.core.client_address import client_address

TRUSTED = Settings(_env_file=None, TRUSTED_PROXIES="127.0.0.1,::1,10.1.0.0/16").trusted_proxies  # type: ignore[call-arg]  # pydantic-settings' _env_file is no declared field


def test_a_trusted_proxy_names_the_client_with_x_real_ip() -> None:
    assert client_address("127.0.0.1", "198.51.100.1", "203.0.113.5", TRUSTED) == "203.0.113.5"


def test_without_x_real_ip_the_right_most_forwarded_entry_is_the_client() -> None:
    assert client_address("10.1.2.3", "198.51.100.1, 203.0.113.5", None, TRUSTED) == "203.0.113.5"


def test_headers_from_an_untrusted_peer_are_ignored() -> None:
    assert client_address("192.0.2.9", "203.0.113.5", "203.0.113.5", TRUSTED) == "192.0.2.9"


def test_a_header_that_is_not_an_address_leaves_the_peer() -> None:
    assert client_address("::1", "not-an-address", "also not", TRUSTED) == "::1"


def test_an_invalid_trusted_proxies_entry_fails_the_settings() -> None:
    with pytest.raises(ValueError, match="TRUSTED_PROXIES"):
        Settings(_env_file=None, TRUSTED_PROXIES="127.0.0.1,nginx.local")  # type: ignore[call-arg]  # pydantic-settings' _env_file is no declared field

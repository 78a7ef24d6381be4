"""The mirror in the rendered nginx configs: side-by-side only, and gone with SHADOW_READS=off."""

from __future__ import annotations

from pathlib import Path

import pytest

from src.config import Settings
from src.deploy.nginx import NginxInstance, render
from tests.proxy.conftest import nginx_or_skip

MIRROR = "mirror /_shadow/mirror;"


def api_location(text: str) -> str:
    start = text.index("location /api/ {")
    return text[start:text.index("}", start)]


def test_side_by_side_mirrors_api_reads_without_their_bodies() -> None:
    block = api_location(render("side-by-side", Settings(_env_file=None)))  # type: ignore[call-arg]  # pydantic-settings' _env_file is no declared field
    assert MIRROR in block and "mirror_request_body off;" in block


def test_mirror_location_is_internal_and_drops_writes() -> None:
    text = render("side-by-side", Settings(_env_file=None))  # type: ignore[call-arg]  # pydantic-settings' _env_file is no declared field
    start = text.index("location /_shadow/ {")
    block = text[start:text.index("\n        }\n", start)]
    assert "internal;" in block
    assert "if ($request_method !~ ^(GET|HEAD)$) {\n                return 204;" in block


def test_shadow_reads_off_renders_no_mirror(tmp_path: Path) -> None:
    text = render("side-by-side", Settings(_env_file=None, SHADOW_READS="off"))  # type: ignore[call-arg]  # pydantic-settings' _env_file is no declared field
    assert MIRROR not in text and "mirror_request_body" not in text
    NginxInstance(nginx_or_skip(), tmp_path).install(text)


@pytest.mark.parametrize("shadow_reads", ["on", "off"])
def test_cutover_never_mirrors(shadow_reads: str) -> None:
    text = render("cutover", Settings(_env_file=None, SHADOW_READS=shadow_reads))  # type: ignore[call-arg]  # pydantic-settings' _env_file is no declared field
    assert MIRROR not in text and "/_shadow/" not in text

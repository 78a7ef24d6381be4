"""The shadow-read lines in the rendered nginx configs: side-by-side only, reads only, sampled by
nginx, and gone with SHADOW_READS=off or a sample rate of 0."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from src.config import Settings
from src.deploy.nginx import NginxInstance, render, shadow_sample_percent
from src.shadow.intake import FORWARDED_HEADERS
from tests.proxy.conftest import nginx_or_skip

SENT = "access_log syslog:server=127.0.0.1:18081,tag=shadow,nohostname shadow_read if=$shadow_read;"


def side_by_side(**overrides: Any) -> str:
    return render("side-by-side", Settings(_env_file=None, FASTAPI_PORT=18081, **overrides))  # type: ignore[call-arg]  # pydantic-settings' _env_file is no declared field


def api_location(text: str) -> str:
    start = text.index("location /api/ {")
    return text[start:text.index("}", start)]


def test_side_by_side_sends_api_reads_to_the_comparer_port_and_keeps_the_access_log() -> None:
    block = api_location(side_by_side())
    assert SENT in block and "access_log logs/access.log with_request_id;" in block
    assert "mirror " not in side_by_side()  # no mirror directive: it holds the client for the comparer


def block(text: str, head: str) -> list[str]:
    start = text.index(head + " {\n") + len(head) + 3
    return text[start:text.index("}", start)].split()


def test_reads_are_sent_when_nginx_is_idle_else_one_in_a_hundred_and_the_default_rate_takes_all() -> None:
    text = side_by_side()
    assert block(text, "map $request_method $shadow_read_method") == ["GET", "1;", "HEAD", "1;", "default", "0;"]
    assert block(text, "map $connections_writing $shadow_read_idle") == ["0", "1;", "default", "0;"]
    assert block(text, 'split_clients "busy${request_id}" $shadow_read_busy_sample') == ["1%", "1;", "*", "0;"]
    assert block(text, 'map "${shadow_read_method}1${shadow_read_idle}${shadow_read_busy_sample}" $shadow_read') == [
        "~^11(1.|01)$", "1;", "default", "0;"]
    assert "$shadow_read_sampled" not in text


def test_the_line_names_the_headers_replayed() -> None:
    text = side_by_side()
    for header in FORWARDED_HEADERS:
        assert f'"{header}":"$http_{header.lower().replace("-", "_")}"' in text


@pytest.mark.parametrize(("rate", "percent"), [(0.25, "25%"), (0.125, "12.5%"), (0.0001, "0.01%"), (1.0, None),
                                               (0.00001, "0%")])
def test_sample_rate_is_written_as_nginx_takes_it(rate: float, percent: str | None) -> None:
    assert shadow_sample_percent(rate) == percent


def test_a_sample_rate_below_one_splits_on_the_request_id(tmp_path: Path) -> None:
    text = side_by_side(SHADOW_SAMPLE_RATE=0.25)
    assert 'split_clients "${request_id}" $shadow_read_sampled {\n        25% 1;\n        * 0;' in text
    assert ('map "${shadow_read_method}${shadow_read_sampled}${shadow_read_idle}${shadow_read_busy_sample}" '
            "$shadow_read {") in text and SENT in text
    NginxInstance(nginx_or_skip(), tmp_path).install(text)


@pytest.mark.parametrize("overrides", [{"SHADOW_READS": "off"}, {"SHADOW_SAMPLE_RATE": 0.0}])
def test_shadow_reads_off_or_rate_zero_sends_nothing(tmp_path: Path, overrides: dict[str, Any]) -> None:
    text = side_by_side(**overrides)
    assert "syslog:" not in text and "log_format shadow_read" not in text and "$shadow_read {" not in text
    NginxInstance(nginx_or_skip(), tmp_path).install(text)


@pytest.mark.parametrize("shadow_reads", ["on", "off"])
def test_cutover_never_mirrors(shadow_reads: str) -> None:
    text = render("cutover", Settings(_env_file=None, SHADOW_READS=shadow_reads))  # type: ignore[call-arg]  # pydantic-settings' _env_file is no declared field
    assert "shadow" not in text and "syslog:" not in text

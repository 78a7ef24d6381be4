"""The nginx configs: the root nginx.conf is the side-by-side template rendered for the defaults,
and both phase templates render with a deployment's ports and pass `nginx -t`."""

from __future__ import annotations

from pathlib import Path

import pytest

from src.config import PROJECT_ROOT, Settings
from src.deploy.nginx import NginxInstance, render
from tests.proxy.conftest import nginx_or_skip


def test_root_nginx_conf_is_the_side_by_side_template_rendered_for_the_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("HTTP_HOST", raising=False)
    defaults = Settings(_env_file=None, BULK_UPLOAD_MAX_BYTES=1048576, MAX_JSON_BODY_BYTES=1048576,  # type: ignore[call-arg]  # pydantic-settings' _env_file is no declared field
                        HTTP_PORT=8000, FASTAPI_PORT=8001, FLASK_PORT=5000, OUTBOUND_TIMEOUT_SECONDS=10.0)
    assert (PROJECT_ROOT / "nginx.conf").read_text() == render("side-by-side", defaults)


@pytest.mark.parametrize("phase", ["side-by-side", "cutover"])
def test_phase_template_renders_the_ports_and_passes_nginx_t(phase: str, tmp_path: Path) -> None:
    settings = Settings(_env_file=None, HTTP_PORT=18080, FASTAPI_PORT=18081, FLASK_PORT=15000,  # type: ignore[call-arg]  # pydantic-settings' _env_file is no declared field
                        BULK_UPLOAD_MAX_BYTES=2 * 1048576)
    text = render(phase, settings)
    assert "listen 127.0.0.1:18080;" in text and "server 127.0.0.1:18081;" in text
    assert ("server 127.0.0.1:15000;" in text) == (phase == "side-by-side")
    assert f"client_max_body_size {2 * 1048576 + 64 * 1024};" in text
    assert "location = /metrics {" in text  # scraped on the apps' own ports only
    NginxInstance(nginx_or_skip(), tmp_path).install(text)  # raises NginxError when nginx -t refuses
    assert (tmp_path / "conf" / "nginx.conf").read_text() == text

"""nginx's answers for an upstream that is down (502 -> 503) or silent (504) are the JSON envelope.

Only nginx runs: nothing listens on the FastAPI door's port (connection refused: nginx's 502,
answered as the 503 envelope), and the Flask door's port is held by a listener that accepts and
never answers (nginx's 504 once its read timeout, shortened to 1 s here, runs out).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from src.deploy.nginx import render
from tests.proxy.conftest import Stack, nginx_or_skip

UNAVAILABLE = {"error": "Service unavailable", "message": "The API server is unavailable, retry shortly."}
TIMEOUT = {"error": "Gateway timeout", "message": "The API server did not answer in time."}


@pytest.fixture(scope="module")
def nginx_only(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    deployment = Stack(tmp_path_factory.mktemp("upstreams"), nginx_or_skip())
    silent = socket.socket()
    silent.bind(("127.0.0.1", deployment.flask_port))
    silent.listen(64)
    config = render("side-by-side", deployment.settings)
    assert "proxy_read_timeout 60s;" in config
    deployment.nginx.install(config.replace("proxy_read_timeout 60s;", "proxy_read_timeout 1s;"))
    try:
        deployment.start("nginx")
        yield deployment
    finally:
        deployment.stop_all()
        silent.close()


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_door_that_is_down_answers_the_503_envelope(nginx_only: Stack, method: str) -> None:
    with nginx_only.client() as client:
        response = client.request(method, "/api/v2/jobs")
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == UNAVAILABLE
    assert response.headers["x-request-id"]


def test_a_door_that_never_answers_gets_the_504_envelope(nginx_only: Stack) -> None:
    with nginx_only.client() as client:
        response = client.get("/api/jobs")
    assert response.status_code == 504
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == TIMEOUT

"""One client's 500 never turns into an error for another client (issue 15, item 2).

After a handler raised, uvicorn closed the kept-alive upstream connection; nginx sent the next
request on it and answered 503 ("recv() failed (104: Connection reset by peer)"). Real nginx in
front of test builds of both doors (tests/proxy/faulty_apps.py) with a route that raises.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.proxy.conftest import ADMIN, Stack, nginx_or_skip
from tests.proxy.faulty_apps import RAISING_PATH

ROUNDS = 100
TEST_BUILDS = {
    "src.flask_app.wsgi:create_wsgi_app()": "tests.proxy.faulty_apps:create_flask_wsgi_app()",
    "src.fastapi_app.main:create_app": "tests.proxy.faulty_apps:create_fastapi_app",
}
PREFIXES = {"flask": "/api", "fastapi": "/api/v2"}


@pytest.fixture(scope="module")
def faulty_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    deployment = Stack(tmp_path_factory.mktemp("faulty"), nginx_or_skip(), app_targets=TEST_BUILDS)
    try:
        deployment.start_all()
        yield deployment
    finally:
        deployment.stop_all()


def other_clients_request(client: httpx.Client, prefix: str, method: str) -> httpx.Response:
    if method == "GET":
        return client.get(f"{prefix}/health")
    # A POST, which nginx must never replay: the admin's login.
    return client.post(f"{prefix}/auth/login", json={"username": ADMIN["username"], "password": ADMIN["password"]})


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("door", ["flask", "fastapi"])
def test_a_500_for_one_client_never_fails_the_next_request_of_another(
        faulty_stack: Stack, door: str, method: str) -> None:
    prefix = PREFIXES[door]
    answers: list[tuple[int, int]] = []
    with faulty_stack.client() as faulty, faulty_stack.client() as other:
        for _ in range(ROUNDS):
            failed = faulty.get(prefix + RAISING_PATH)
            followed = other_clients_request(other, prefix, method)
            answers.append((failed.status_code, followed.status_code))
    assert set(answers) == {(500, 200)}, answers

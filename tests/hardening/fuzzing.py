"""Schemathesis against the /api/v2 OpenAPI document, on either door, in-process.

Shared by tests/hardening/test_fuzz.py (bounded, fixed seed) and bench/fuzz (longer runs).
Every operation gets valid (positive) and schema-violating (negative: wrong types, missing keys)
cases; strings include NUL bytes and odd unicode, numbers run to huge values. Each response must
pass not-a-server-error, status-code conformance and response-schema conformance.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

import hypothesis
import schemathesis
from hypothesis import HealthCheck, Phase
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error, response_schema_conformance, status_code_conformance
from schemathesis.core import NotSet

from src.config import Settings
from tests.parity.contract_table import v2_only_rows

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
V2 = "/api/v2"

# Operations that reach outside the process (a URL the caller types, Slack): the fuzzer would
# send traffic to whatever hosts it invents. Their input rules are covered by tests/api.
OUTBOUND = {
    ("POST", "/jobs/test-run"),
    ("POST", "/jobs/{job_id}/execute"),
    ("PUT", "/settings/slack"),
}
# Logging out revokes the caller's token; each case gets a fresh one, but the refresh token
# endpoint needs a refresh token, which the fuzzer cannot hold: both still run (401 documented).


@dataclass
class Failure:
    operation: str
    mode: str
    problem: str


@dataclass
class FuzzReport:
    tried: int = 0
    failures: list[Failure] = field(default_factory=list)
    per_operation: dict[str, int] = field(default_factory=dict)
    served_by: set[str] = field(default_factory=set)  # proof the cases reached the intended door
    with_body: dict[str, int] = field(default_factory=dict)  # cases that sent a request body


def v2_document(settings: Settings) -> dict[str, Any]:
    """The FastAPI door's OpenAPI document, as served at /api/v2/openapi.json."""
    from fastapi.testclient import TestClient

    from src.fastapi_app.main import create_app

    with TestClient(create_app(settings)) as client:
        response = client.get(f"{V2}/openapi.json")
        response.raise_for_status()
        return response.json()  # type: ignore[no-any-return]  # JSON is untyped


def for_prefix(document: dict[str, Any], prefix: str) -> dict[str, Any]:
    """The same document with its paths under another door's prefix (the paths are the same)."""
    moved = copy.deepcopy(document)
    # Contract 12.1's endpoints exist on the FastAPI door only.
    v2_only = set() if prefix == V2 else {V2 + path for _method, path, _role in v2_only_rows()}
    moved["paths"] = {prefix + path[len(V2):]: item for path, item in document["paths"].items()
                      if path not in v2_only}
    return moved


@contextmanager
def door_app(door: str, settings: Settings) -> Iterator[Any]:
    """The door's app in-process (ASGI for fastapi, WSGI for flask), closed afterwards."""
    if door == "fastapi":
        from src.fastapi_app.main import create_app as create_fastapi

        app = create_fastapi(settings)
        from fastapi.testclient import TestClient

        with TestClient(app):  # runs the lifespan (engines, services)
            yield app
        return
    from src.flask_app import create_app as create_flask

    flask_app = create_flask(settings)
    try:
        yield flask_app
    finally:
        flask_app.extensions["runtime"].close()


def operations_with_body(document: dict[str, Any]) -> set[str]:
    """Labels (`METHOD /path`) of the operations whose document declares a required request body."""
    return {
        f"{method.upper()} {path[len(V2):]}"
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if operation.get("requestBody", {}).get("required") and (method.upper(), path[len(V2):]) not in OUTBOUND
    }


def operation_key(method: str, path: str, prefix: str) -> tuple[str, str]:
    return method.upper(), path[len(prefix):]


def fuzz(
    door: str,
    settings: Settings,
    document: dict[str, Any],
    token: Callable[[], str],
    *,
    max_examples: int,
    seed: int,
    operations: Callable[[str, str], bool] | None = None,
) -> FuzzReport:
    """Run positive and negative cases of every operation through `door`; collect failures."""
    prefix = V2 if door == "fastapi" else "/api"
    config = schemathesis.config.SchemathesisConfig()
    config.projects.default.generation.update(allow_x00=True, codec="utf-8")
    schema = schemathesis.openapi.from_dict(for_prefix(document, prefix), config=config)
    report = FuzzReport()
    with door_app(door, settings) as app:
        schema.app = app
        for result in schema.get_all_operations():
            operation = result.ok()
            key = operation_key(operation.method, operation.path, prefix)
            if key in OUTBOUND or (operations is not None and not operations(*key)):
                continue
            label = f"{key[0]} {key[1]}"
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                _fuzz_operation(operation, mode, label, token, max_examples, seed, report)
    return report


def _fuzz_operation(operation: Any, mode: GenerationMode, label: str, token: Callable[[], str],
                    max_examples: int, seed: int, report: FuzzReport) -> None:
    seen: list[str] = []

    @hypothesis.settings(
        max_examples=max_examples, deadline=None, database=None, derandomize=False,
        phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @hypothesis.seed(seed)
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        report.tried += 1
        report.per_operation[label] = report.per_operation.get(label, 0) + 1
        if not isinstance(case.body, NotSet):
            report.with_body[label] = report.with_body.get(label, 0) + 1
        try:
            response = case.call(headers={"Authorization": f"Bearer {token()}"})
            report.served_by.add(response.headers.get("x-served-by", [""])[0])
            case.validate_response(response, checks=CHECKS)
        except Exception as error:  # noqa: BLE001  (every check failure is collected, not raised)
            problem = _describe(case, error)
            if problem not in seen:
                seen.append(problem)
                report.failures.append(Failure(label, mode.value, problem))

    with suppress(hypothesis.errors.Unsatisfiable):
        run()


def _describe(case: Any, error: Exception) -> str:
    text = " ".join(str(error).split())
    body = case.body if not isinstance(case.body, bytes) else case.body[:200]
    return (
        f"{type(error).__name__}: {text[:600]} | query={case.query!r} path={case.path_parameters!r} body={body!r:.300}"
    )

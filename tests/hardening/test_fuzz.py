"""Schemathesis on both doors with the /api/v2 document, as admin and as viewer (issue 7 "Fuzzing").

Bounded for CI: a few positive and negative cases per operation with a fixed seed. The longer run
is bench/fuzz. Zero failures of not-a-server-error, status-code and response-schema conformance.
"""

from __future__ import annotations

from typing import Any

import pytest

from src.config import Settings
from tests.conftest import Factory, legacy_door_param
from tests.hardening.fuzzing import fuzz, operations_with_body, v2_document

MAX_EXAMPLES = 3
SEED = 20251222


@pytest.fixture
def document(settings: Settings) -> dict[str, Any]:
    return v2_document(settings)


@pytest.mark.parametrize("role", ["admin", "viewer"])
@pytest.mark.parametrize("door", ["fastapi", legacy_door_param("flask")])
def test_fuzzing_the_v2_document_finds_no_failure(door: str, role: str, settings: Settings, factory: Factory,
                                                  document: dict[str, Any]) -> None:
    caller = factory.user(role)
    factory.team("Team A", slug="team-a")
    report = fuzz(door, settings, document, lambda: factory.token(caller), max_examples=MAX_EXAMPLES, seed=SEED)

    assert report.failures == []
    assert report.served_by == {door}
    assert report.tried >= 2 * len(report.per_operation)
    # The bodies documented through openapi_extra are the ones generated and sent.
    assert operations_with_body(document) - set(report.with_body) == set()

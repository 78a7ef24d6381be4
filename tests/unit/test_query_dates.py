"""The `from`/`to` pattern the document states and the parser agree (contract 1.7)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from src.schemas.contract_errors import Refused, field_value
from src.schemas.query_rules import INSTANT_PATTERN, DateRangeQuery


@settings(max_examples=300, deadline=None)
@given(st.from_regex(INSTANT_PATTERN, fullmatch=True))
def test_every_value_the_pattern_admits_is_parsed(text: str) -> None:
    field_value(DateRangeQuery, "date_from", text)  # a refusal raises Refused


@pytest.mark.parametrize("text", [
    "2025-02-30", "1900-02-29", "0000-01-01", "2025-06-01T24:00", "2025-06-01T10:00+24:00",
    "2025-06-01T10", "20250601", "2025-06-01T10:00:00.Z", "06/01/2025", "\x1f", "2025-06-01\x1f",
])
def test_values_outside_the_pattern_are_refused(text: str) -> None:
    assert re.fullmatch(INSTANT_PATTERN, text) is None
    with pytest.raises(Refused):
        field_value(DateRangeQuery, "date_from", text)

"""Pure paging rule of GET /notifications (contract 1.7)."""

from __future__ import annotations

import pytest

from src.schemas.notification_queries import NotificationListQuery


@pytest.mark.parametrize(("raw", "expected"), [
    (None, 20), ("", 20), ("abc", 20), ("1.5", 20), ("0", 20), ("-7", 20),
    ("1", 1), (" 42 ", 42), ("100", 100), ("101", 100), ("99999999999999999999", 100),
])
def test_per_page_defaults_below_one_and_clamps_above_100(raw: str | None, expected: int) -> None:
    assert NotificationListQuery.model_validate({"per_page": raw}).per_page == expected

"""Pure slug rules of category/team creation (contract 6.2, 6.6, 7.4)."""

from __future__ import annotations

from typing import Any

import pytest

from src.core.errors import Invalid
from src.core.slug_tables import creation_slug
from src.schemas.slug_table_bodies import CategoryCreateRequest


@pytest.mark.parametrize(("payload", "expected"), [
    ({"name": "Prod/Canary"}, ("Prod/Canary", "prod-canary")),
    ({"name": " DR  Testing "}, ("DR  Testing", "dr-testing")),
    ({"name": "Équipe A"}, ("Équipe A", "quipe-a")),
    ({"name": "Smoke", "slug": "Custom Slug"}, ("Smoke", "custom-slug")),
    ({"name": "Smoke", "slug": "   "}, ("Smoke", "smoke")),
    ({"name": "Smoke", "slug": None}, ("Smoke", "smoke")),
])
def test_creation_slug(payload: dict[str, Any], expected: tuple[str, str]) -> None:
    assert creation_slug(CategoryCreateRequest, payload) == expected


@pytest.mark.parametrize("payload", [{}, {"name": ""}, {"name": None}, {"name": ["x"]}])
def test_creation_without_name_is_missing_field(payload: dict[str, Any]) -> None:
    with pytest.raises(Invalid) as raised:
        creation_slug(CategoryCreateRequest, payload)
    assert raised.value.body() == {"error": "Missing required fields", "message": '"name" is required.'}


def test_creation_with_unsluggable_slug_is_invalid_slug() -> None:
    with pytest.raises(Invalid) as raised:
        creation_slug(CategoryCreateRequest, {"name": "Fine", "slug": "!!!"})
    assert raised.value.body() == {"error": "Invalid slug", "message": "Unable to generate a valid slug from name."}


def test_creation_with_non_string_slug_is_invalid_payload() -> None:
    with pytest.raises(Invalid) as raised:
        creation_slug(CategoryCreateRequest, {"name": "Fine", "slug": 3})
    assert raised.value.body() == {"error": "Invalid payload", "message": '"slug" must be a string.'}

"""Bodies of the category and PIC-team writes (contract 6.2, 6.3, 6.6, 6.7).

The slug's uniqueness (409) and the row's existence (404) sit between field rules, so the core
reads these bodies field by field in the contract's order (`contract_errors.field_value`).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from src.schemas.body_fields import Truthy, optional_text, required_text
from src.schemas.contract_errors import refusal
from src.schemas.query_rules import QueryFlag


def missing_field(key: str) -> Any:
    return refusal("Missing required fields", f'"{key}" is required.')


BLANK_NAME = refusal("Invalid name", "Name cannot be empty.")
BLANK_HANDLE = refusal("Invalid slack_handle", "slack_handle cannot be empty.")
# 6.3/6.7 step 4: the slug follows the name; a body naming it is refused whatever its value.
_NO_SLUG: dict[str, Any] = {"not": {"required": ["slug"]}}


class SlugTableCreateRequest(BaseModel):
    """`name` required; `slug` optional (slugified; from `name` when blank)."""

    model_config = ConfigDict(extra="ignore")

    name: required_text(missing_field("name"))  # type: ignore[valid-type]  # an Annotated type built by required_text
    slug: optional_text("slug") = None  # type: ignore[valid-type]  # an Annotated type built by optional_text


class CategoryCreateRequest(SlugTableCreateRequest):
    """`POST /job-categories` (6.2)."""


class PicTeamCreateRequest(SlugTableCreateRequest):
    """`POST /pic-teams` (6.6): also the Slack handle the team's alerts mention."""

    slack_handle: required_text(missing_field("slack_handle"))  # type: ignore[valid-type]  # as above


class CategoryUpdateRequest(BaseModel):
    """`PUT /job-categories/{id}` (6.3): rename and/or toggle; `slug` may not be sent."""

    model_config = ConfigDict(extra="ignore", json_schema_extra=_NO_SLUG)

    name: required_text(BLANK_NAME) = None  # type: ignore[valid-type]  # an Annotated type built by required_text
    is_active: Truthy = True


class PicTeamUpdateRequest(CategoryUpdateRequest):
    """`PUT /pic-teams/{id}` (6.7): also a new Slack handle."""

    slack_handle: required_text(BLANK_HANDLE) = None  # type: ignore[valid-type]  # as above


class SlugTableListQuery(BaseModel):
    """`GET /job-categories`, `GET /pic-teams` (6.1, 6.5): inactive rows too, for admins."""

    model_config = ConfigDict(extra="ignore")

    include_inactive: QueryFlag = False

"""Response bodies of the job-category endpoints (contract 2.5, 6.1-6.4)."""

from __future__ import annotations

from src.schemas.common import ApiModel, UtcInstant


class CategoryOut(ApiModel):
    id: str
    slug: str
    name: str
    is_active: bool
    created_at: UtcInstant
    updated_at: UtcInstant


class CategoryListResponse(ApiModel):
    categories: list[CategoryOut]


class CategoryCreatedResponse(ApiModel):
    message: str = "Category created"
    category: CategoryOut


class CategoryUpdatedResponse(ApiModel):
    message: str = "Category updated"
    category: CategoryOut
    jobs_updated: int = 0


class CategoryDisabledResponse(ApiModel):
    message: str = "Category disabled"
    category: CategoryOut

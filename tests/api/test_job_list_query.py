"""`GET /jobs` with query parameters (contract 4.1): page, limit, q, status, category, pic_team, sort."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from src.models import User
from tests.api.conftest import ApiClient
from tests.conftest import Factory


@pytest.fixture
def names(factory: Factory, user: User) -> list[str]:
    """Five jobs created a minute apart (newest last): alpha … echo."""
    start = datetime(2026, 1, 1, 12, 0)
    made = ["alpha", "Bravo_1", "charlie", "delta 50%", "echo"]
    for minute, name in enumerate(made):
        factory.job(user, name=name, created_at=start + timedelta(minutes=minute),
                    is_active=name != "charlie", category="regression" if name == "echo" else "general",
                    pic_team="team-b" if name == "delta 50%" else "team-a")
    return made


def _names(api: ApiClient, token: str, query: str) -> list[str]:
    response = api.get(f"/jobs?{query}", token=token)
    assert response.status_code == 200, response.text
    return [job["name"] for job in response.json()["jobs"]]


def test_page_and_limit_return_one_page_with_totals(
    api: ApiClient, factory: Factory, user: User, names: list[str]
) -> None:
    body = api.get("/jobs?page=2&limit=2", token=factory.token(user)).json()
    assert [job["name"] for job in body["jobs"]] == ["charlie", "Bravo_1"]
    assert {key: body[key] for key in ("count", "total", "page", "limit", "total_pages")} == {
        "count": 2, "total": 5, "page": 2, "limit": 2, "total_pages": 3}


def test_a_page_past_the_end_is_empty_with_totals(api: ApiClient, factory: Factory, user: User,
                                                   names: list[str]) -> None:
    body = api.get("/jobs?page=9&limit=2", token=factory.token(user)).json()
    assert (body["jobs"], body["total"], body["total_pages"]) == ([], 5, 3)


def test_q_matches_text_case_insensitively_and_literally(
    api: ApiClient, factory: Factory, user: User, names: list[str]
) -> None:
    token = factory.token(user)
    assert _names(api, token, "q=BRAVO") == ["Bravo_1"]
    assert _names(api, token, "q=50%25") == ["delta 50%"]
    assert _names(api, token, "q=o_") == ["Bravo_1"]


def test_status_category_and_pic_team_filter(api: ApiClient, factory: Factory, user: User,
                                             names: list[str]) -> None:
    token = factory.token(user)
    assert _names(api, token, "status=inactive") == ["charlie"]
    assert _names(api, token, "category=regression") == ["echo"]
    assert _names(api, token, "pic_team=team-b") == ["delta 50%"]
    assert _names(api, token, "status=active&pic_team=team-a&sort=name") == ["Bravo_1", "alpha", "echo"]


def test_sort_orders_by_the_key_and_direction(api: ApiClient, factory: Factory, user: User,
                                              names: list[str]) -> None:
    token = factory.token(user)
    assert _names(api, token, "sort=created_at") == names
    assert _names(api, token, "sort=-created_at") == names[::-1]


@pytest.mark.parametrize(("query", "error", "message"), [
    ("status=paused", "Invalid status", "status must be active or inactive."),
    ("sort=owner", "Invalid sort",
     "sort must be one of name, created_at, updated_at, end_date, optionally prefixed with -."),
])
def test_an_unknown_status_or_sort_is_400(api: ApiClient, factory: Factory, user: User,
                                          query: str, error: str, message: str) -> None:
    response = api.get(f"/jobs?{query}", token=factory.token(user))
    assert response.status_code == 400
    assert response.json() == {"error": error, "message": message}


def test_a_queried_list_has_an_etag_and_answers_304_when_unchanged(
    api: ApiClient, factory: Factory, user: User, names: list[str]
) -> None:
    token = factory.token(user)
    first = api.get("/jobs?limit=2", token=token)
    again = api.get("/jobs?limit=2", token=token, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


def test_without_parameters_the_answer_has_no_paging_keys(
    api: ApiClient, factory: Factory, user: User, names: list[str]
) -> None:
    body = api.get("/jobs", token=factory.token(user)).json()
    assert set(body) == {"count", "jobs"} and body["count"] == 5

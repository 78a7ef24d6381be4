"""The caller's notifications (contract 6.9, 1.7)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy.orm import Session

from src.models import Notification, User, utcnow
from tests.api.conftest import ApiClient
from tests.conftest import Factory

INSTANT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
INVALID_DATE = {"error": "Invalid date", "message": "Invalid date format. Use YYYY-MM-DD or ISO datetime."}
INVALID_RANGE = {"error": "Invalid date range", "message": '"from" must be earlier than "to".'}


@pytest.fixture
def token(factory: Factory, user: User) -> str:
    return factory.token(user)


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _ids(response: httpx.Response) -> list[str]:
    return [n["id"] for n in response.json()["notifications"]]


def _row(db: Session, notification_id: str) -> Notification | None:
    db.expire_all()
    return db.get(Notification, notification_id)


# --- list -----------------------------------------------------------------------------------


def test_list_returns_only_own_notifications_newest_first(
    api: ApiClient, factory: Factory, user: User, admin: User, token: str
) -> None:
    old = factory.notification(user, created_at=_at("2025-01-01T00:00:00"))
    new = factory.notification(user, created_at=_at("2025-01-02T00:00:00"))
    factory.notification(admin)
    response = api.get("/notifications", token=token)
    assert response.status_code == 200
    body = response.json()
    assert _ids(response) == [new.id, old.id]
    assert (body["total"], body["page"], body["per_page"], body["total_pages"]) == (2, 1, 20, 1)
    assert body["range"] == {"from": None, "to": None}


def test_list_item_shape_and_timestamps(api: ApiClient, factory: Factory, user: User, token: str) -> None:
    factory.notification(user, title="Job Failed", message="boom", type="error", is_read=True,
                         read_at=_at("2025-03-01T10:00:00.123456"), created_at=_at("2025-03-01T09:00:00"))
    item = api.get("/notifications", token=token).json()["notifications"][0]
    assert item["user_id"] == user.id
    assert (item["title"], item["message"], item["type"]) == ("Job Failed", "boom", "error")
    assert item["related_job_id"] is None and item["related_execution_id"] is None
    assert item["is_read"] is True
    assert item["read_at"] == "2025-03-01T10:00:00.123Z"
    assert item["created_at"] == "2025-03-01T09:00:00.000Z"


def test_list_unread_only(api: ApiClient, factory: Factory, user: User, token: str) -> None:
    unread = factory.notification(user)
    factory.notification(user, is_read=True, read_at=utcnow())
    response = api.get("/notifications?unread_only=true", token=token)
    assert _ids(response) == [unread.id]
    assert response.json()["total"] == 1


def test_list_unread_only_false_lists_everything(api: ApiClient, factory: Factory, user: User, token: str) -> None:
    factory.notification(user), factory.notification(user, is_read=True)
    assert api.get("/notifications?unread_only=false", token=token).json()["total"] == 2


def test_list_paginates_with_total_pages(api: ApiClient, factory: Factory, user: User, token: str) -> None:
    base = _at("2025-01-01T00:00:00")
    rows = [factory.notification(user, created_at=base + timedelta(minutes=i)) for i in range(5)]
    response = api.get("/notifications?page=2&per_page=2", token=token)
    body = response.json()
    assert _ids(response) == [rows[2].id, rows[1].id]
    assert (body["total"], body["page"], body["per_page"], body["total_pages"]) == (5, 2, 2, 3)


def test_list_page_past_the_end_is_empty_with_totals(api: ApiClient, factory: Factory, user: User, token: str) -> None:
    factory.notification(user)
    body = api.get("/notifications?page=9", token=token).json()
    assert body["notifications"] == []
    assert (body["total"], body["page"], body["total_pages"]) == (1, 9, 1)


def test_list_empty_has_zero_pages(api: ApiClient, token: str) -> None:
    body = api.get("/notifications", token=token).json()
    assert (body["total"], body["total_pages"]) == (0, 0)


@pytest.mark.parametrize(
    ("query", "page", "per_page"),
    [
        ("page=0&per_page=0", 1, 20),
        ("page=-3&per_page=-5", 1, 20),
        ("per_page=1000", 1, 100),
        ("page=abc&per_page=xyz", 1, 20),
        ("per_page=1", 1, 1),
        ("per_page=100", 1, 100),
    ],
)
def test_list_clamps_and_echoes_effective_paging(
    api: ApiClient, token: str, query: str, page: int, per_page: int
) -> None:
    body = api.get(f"/notifications?{query}", token=token).json()
    assert (body["page"], body["per_page"]) == (page, per_page)


def test_list_date_only_range_includes_the_to_day(api: ApiClient, factory: Factory, user: User, token: str) -> None:
    factory.notification(user, created_at=_at("2025-05-31T23:59:59"))
    inside = [factory.notification(user, created_at=_at("2025-06-01T00:00:00")),
              factory.notification(user, created_at=_at("2025-06-02T23:59:59"))]
    factory.notification(user, created_at=_at("2025-06-03T00:00:00"))
    response = api.get("/notifications?from=2025-06-01&to=2025-06-02", token=token)
    assert sorted(_ids(response)) == sorted(n.id for n in inside)
    assert response.json()["range"] == {"from": "2025-06-01T00:00:00.000Z", "to": "2025-06-03T00:00:00.000Z"}


def test_list_iso_range_with_offset_and_z(api: ApiClient, factory: Factory, user: User, token: str) -> None:
    factory.notification(user, created_at=_at("2025-06-01T08:59:59"))
    inside = factory.notification(user, created_at=_at("2025-06-01T09:00:00"))
    factory.notification(user, created_at=_at("2025-06-01T10:00:00"))
    response = api.get("/notifications", token=token,
                       params={"from": "2025-06-01T18:00:00+09:00", "to": "2025-06-01T10:00:00Z"})
    assert _ids(response) == [inside.id]
    assert response.json()["range"] == {"from": "2025-06-01T09:00:00.000Z", "to": "2025-06-01T10:00:00.000Z"}


def test_list_naive_datetime_is_utc(api: ApiClient, factory: Factory, user: User, token: str) -> None:
    factory.notification(user, created_at=_at("2025-06-01T09:00:00"))
    response = api.get("/notifications?from=2025-06-01T09:00:01", token=token)
    assert response.json()["total"] == 0
    assert response.json()["range"] == {"from": "2025-06-01T09:00:01.000Z", "to": None}


def test_list_invalid_date_is_400(api: ApiClient, token: str) -> None:
    response = api.get("/notifications?from=yesterday", token=token)
    assert response.status_code == 400
    assert response.json() == INVALID_DATE


@pytest.mark.parametrize(
    "query", ["from=2025-06-02&to=2025-06-01", "from=2025-06-01T10:00:00Z&to=2025-06-01T10:00:00Z"]
)
def test_list_from_not_before_to_is_400(api: ApiClient, token: str, query: str) -> None:
    response = api.get(f"/notifications?{query}", token=token)
    assert response.status_code == 400
    assert response.json() == INVALID_RANGE


def test_list_same_day_date_range_is_valid(api: ApiClient, token: str) -> None:
    assert api.get("/notifications?from=2025-06-01&to=2025-06-01", token=token).status_code == 200


def test_list_requires_authentication(api: ApiClient) -> None:
    assert api.get("/notifications").status_code == 401


# --- unread count ---------------------------------------------------------------------------


def test_unread_count_counts_own_unread_in_range(
    api: ApiClient, factory: Factory, user: User, admin: User, token: str
) -> None:
    factory.notification(user, created_at=_at("2025-06-01T12:00:00"))
    factory.notification(user, created_at=_at("2025-07-01T12:00:00"))
    factory.notification(user, is_read=True, created_at=_at("2025-06-01T12:00:00"))
    factory.notification(admin, created_at=_at("2025-06-01T12:00:00"))
    assert api.get("/notifications/unread-count", token=token).json() == {
        "unread_count": 2, "range": {"from": None, "to": None}}
    response = api.get("/notifications/unread-count?from=2025-06-01&to=2025-06-30", token=token)
    assert response.json() == {
        "unread_count": 1, "range": {"from": "2025-06-01T00:00:00.000Z", "to": "2025-07-01T00:00:00.000Z"}}


def test_unread_count_invalid_date_is_400(api: ApiClient, token: str) -> None:
    response = api.get("/notifications/unread-count?to=2025-13-01", token=token)
    assert response.status_code == 400
    assert response.json() == INVALID_DATE


# --- mark read ------------------------------------------------------------------------------


def test_mark_read_sets_read_at(api: ApiClient, factory: Factory, user: User, token: str, db: Session) -> None:
    notification = factory.notification(user)
    response = api.put(f"/notifications/{notification.id}/read", token=token)
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Notification marked as read"
    assert body["notification"]["is_read"] is True
    assert INSTANT.fullmatch(body["notification"]["read_at"])
    row = _row(db, notification.id)
    assert row is not None and row.is_read and row.read_at is not None


def test_mark_read_keeps_an_existing_read_at(api: ApiClient, factory: Factory, user: User, token: str) -> None:
    notification = factory.notification(user, is_read=True, read_at=_at("2025-01-01T00:00:00"))
    body = api.put(f"/notifications/{notification.id}/read", token=token).json()
    assert body["notification"]["read_at"] == "2025-01-01T00:00:00.000Z"


def test_mark_read_unknown_is_404(api: ApiClient, token: str) -> None:
    response = api.put("/notifications/nope/read", token=token)
    assert response.status_code == 404
    assert response.json() == {"error": "Notification not found"}


def test_mark_read_of_another_users_is_403(
    api: ApiClient, factory: Factory, admin: User, user: User, db: Session
) -> None:
    notification = factory.notification(user)
    response = api.put(f"/notifications/{notification.id}/read", token=factory.token(admin))
    assert response.status_code == 403
    assert response.json() == {"error": "Forbidden: Cannot access other users notifications"}
    assert _row(db, notification.id).is_read is False  # type: ignore[union-attr]  # None here fails the test, as it should


def test_mark_read_ignores_any_body(api: ApiClient, factory: Factory, user: User, token: str) -> None:
    notification = factory.notification(user)
    response = api.put(f"/notifications/{notification.id}/read", token=token, content=b"junk",
                       headers={"Content-Type": "text/plain"})
    assert response.status_code == 200


# --- read all -------------------------------------------------------------------------------


def test_read_all_marks_only_own_unread(
    api: ApiClient, factory: Factory, user: User, admin: User, token: str, db: Session
) -> None:
    mine = [factory.notification(user).id, factory.notification(user).id]
    already = factory.notification(user, is_read=True, read_at=_at("2025-01-01T00:00:00")).id
    theirs = factory.notification(admin).id
    response = api.put("/notifications/read-all", token=token)
    assert response.status_code == 200
    assert response.json() == {"message": "All notifications marked as read", "updated_count": 2}
    rows = [_row(db, n) for n in mine]
    assert all(row is not None and row.is_read and row.read_at for row in rows)
    assert _row(db, already).read_at == _at("2025-01-01T00:00:00")  # type: ignore[union-attr]  # None here fails the test, as it should
    assert _row(db, theirs).is_read is False  # type: ignore[union-attr]  # None here fails the test, as it should


def test_read_all_with_nothing_unread_reports_zero(api: ApiClient, token: str) -> None:
    assert api.put("/notifications/read-all", token=token).json()["updated_count"] == 0


# --- delete one -----------------------------------------------------------------------------


def test_delete_own_notification(api: ApiClient, factory: Factory, user: User, token: str, db: Session) -> None:
    notification = factory.notification(user)
    response = api.delete(f"/notifications/{notification.id}", token=token)
    assert response.status_code == 200
    assert response.json() == {"message": "Notification deleted successfully"}
    assert _row(db, notification.id) is None


def test_delete_unknown_is_404(api: ApiClient, token: str) -> None:
    response = api.delete("/notifications/nope", token=token)
    assert response.status_code == 404
    assert response.json() == {"error": "Notification not found"}


def test_delete_another_users_is_403(api: ApiClient, factory: Factory, admin: User, viewer: User,
                                     db: Session) -> None:
    notification = factory.notification(admin)
    response = api.delete(f"/notifications/{notification.id}", token=factory.token(viewer))
    assert response.status_code == 403
    assert response.json() == {"error": "Forbidden: Cannot delete other users notifications"}
    assert _row(db, notification.id) is not None


# --- delete read ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/notifications/delete-read", "/notifications/read"])
def test_delete_read_removes_only_own_read_rows(
    api: ApiClient, factory: Factory, user: User, admin: User, token: str, db: Session, path: str
) -> None:
    read_ids = [factory.notification(user, is_read=True).id, factory.notification(user, is_read=True).id]
    unread_id = factory.notification(user).id
    theirs_id = factory.notification(admin, is_read=True).id
    response = api.delete(path, token=token)
    assert response.status_code == 200
    assert response.json() == {"deleted_count": 2}
    assert all(_row(db, n) is None for n in read_ids)
    assert _row(db, unread_id) is not None and _row(db, theirs_id) is not None


def test_delete_read_honours_the_range(api: ApiClient, factory: Factory, user: User, token: str, db: Session) -> None:
    inside = factory.notification(user, is_read=True, created_at=_at("2025-06-01T12:00:00")).id
    outside = factory.notification(user, is_read=True, created_at=_at("2025-06-02T00:00:00")).id
    response = api.delete("/notifications/delete-read?from=2025-06-01&to=2025-06-01", token=token)
    assert response.json() == {"deleted_count": 1}
    assert _row(db, inside) is None and _row(db, outside) is not None


def test_delete_read_invalid_range_is_400_and_deletes_nothing(
    api: ApiClient, factory: Factory, user: User, token: str, db: Session
) -> None:
    notification = factory.notification(user, is_read=True)
    response = api.delete("/notifications/delete-read?from=2025-06-02&to=2025-06-01", token=token)
    assert response.status_code == 400
    assert response.json() == INVALID_RANGE
    assert _row(db, notification.id) is not None


def test_delete_read_alias_is_not_taken_for_an_id(api: ApiClient, factory: Factory, user: User, token: str) -> None:
    factory.notification(user)
    response = api.delete("/notifications/read", token=token)
    assert response.json() == {"deleted_count": 0}

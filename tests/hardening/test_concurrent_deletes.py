"""Concurrent deletes and marks of one row, through each door as a real server, on SQLite and
PostgreSQL (issue 15, item 5): the effect happens once, one caller sees it, the others see 404.

- DELETE of one job or user: exactly one 200, the others 404, one "Job Deleted" broadcast.
- DELETE of one notification: one 200, the others 404.
- Soft deletes (category, PIC team) are idempotent by contract: every caller 200, none 500.
- read-all / mark-read / delete-read: the rows change once, the counts add up to the rows changed.
"""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from src.models import Job, Notification, User
from tests.conftest import Factory, legacy_door
from tests.hardening.servers import Deployment, db, deployment  # noqa: F401  (fixtures)

# Runs against the side-by-side deployment (gunicorn serves /api): needs the legacy door.
pytestmark = legacy_door

CALLERS = 8
_names = itertools.count(1)
DOORS = ["flask", "fastapi"]


def unique(label: str) -> str:
    return f"{label}-{next(_names)}-{threading.get_ident() % 1000}"


@pytest.fixture
def factory(deployment: Deployment, db: Session) -> Factory:  # noqa: F811  # the imported pytest fixture, injected by name
    return Factory(db, deployment.settings)


def all_at_once(deployment: Deployment, door: str, method: str, path: str,  # noqa: F811  # the imported pytest fixture, injected by name
                token: str | None = None) -> list[httpx.Response]:
    """CALLERS identical requests, each from its own thread, released together by a barrier."""
    barrier = threading.Barrier(CALLERS)

    def one(_: int) -> httpx.Response:
        barrier.wait(timeout=30)
        return deployment.doors[door].call(method, path, token or deployment.admin_token)

    with ThreadPoolExecutor(max_workers=CALLERS) as pool:
        return list(pool.map(one, range(CALLERS)))


def statuses(responses: list[httpx.Response]) -> Counter[int]:
    return Counter(response.status_code for response in responses)


def unexpected(responses: list[httpx.Response], allowed: tuple[int, ...]) -> list[str]:
    return [f"{r.status_code} {r.text}" for r in responses if r.status_code not in allowed]


@pytest.mark.parametrize("door", DOORS)
def test_concurrent_deletes_of_one_job_answer_one_200_and_broadcast_once(
        deployment: Deployment, db: Session, factory: Factory, door: str) -> None:  # noqa: F811  # the imported pytest fixture, injected by name
    name = unique(f"race-delete-{door}")
    job_id = factory.job(name=name).id

    responses = all_at_once(deployment, door, "DELETE", f"/jobs/{job_id}")

    assert statuses(responses) == {200: 1, 404: CALLERS - 1}, unexpected(responses, (200, 404))
    db.expire_all()
    assert db.get(Job, job_id) is None
    broadcasts = select(func.count()).select_from(Notification).where(
        Notification.user_id == deployment.admin.id, Notification.title == "Job Deleted",
        Notification.message.contains(f'"{name}"'))
    assert db.scalar(broadcasts) == 1


@pytest.mark.parametrize("door", DOORS)
def test_concurrent_deletes_of_one_user_answer_one_200(
        deployment: Deployment, db: Session, factory: Factory, door: str) -> None:  # noqa: F811  # the imported pytest fixture, injected by name
    name = unique(f"race-user-{door}")
    victim = factory.user("user", username=name, email=f"{name}@example.com")
    victim_id = victim.id
    factory.notification(victim)

    responses = all_at_once(deployment, door, "DELETE", f"/auth/users/{victim_id}")

    assert statuses(responses) == {200: 1, 404: CALLERS - 1}, unexpected(responses, (200, 404))
    db.expire_all()
    assert db.get(User, victim_id) is None


@pytest.mark.parametrize("door", DOORS)
def test_concurrent_deletes_of_one_notification_answer_one_200(
        deployment: Deployment, db: Session, factory: Factory, door: str) -> None:  # noqa: F811  # the imported pytest fixture, injected by name
    notification_id = factory.notification(deployment.admin).id

    responses = all_at_once(deployment, door, "DELETE", f"/notifications/{notification_id}")

    assert statuses(responses) == {200: 1, 404: CALLERS - 1}, unexpected(responses, (200, 404))
    db.expire_all()
    assert db.get(Notification, notification_id) is None


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize("kind", ["job-categories", "pic-teams"])
def test_concurrent_soft_deletes_all_answer_200_and_disable_the_row(
        deployment: Deployment, factory: Factory, door: str, kind: str) -> None:  # noqa: F811  # the imported pytest fixture, injected by name
    name = unique(f"race-{kind}-{door}")
    row_id = (factory.category(name) if kind == "job-categories" else factory.team(name)).id

    responses = all_at_once(deployment, door, "DELETE", f"/{kind}/{row_id}")

    assert statuses(responses) == {200: CALLERS}, unexpected(responses, (200,))
    key = "category" if kind == "job-categories" else "pic_team"
    assert all(r.json()[key]["is_active"] is False for r in responses)


def reader(deployment: Deployment, factory: Factory, label: str) -> tuple[User, str]:  # noqa: F811  # the imported pytest fixture, injected by name
    name = unique(label)
    user = factory.user("viewer", username=name, email=f"{name}@example.com")
    return user, factory.token(user)


@pytest.mark.parametrize("door", DOORS)
def test_concurrent_read_all_counts_each_notification_once(
        deployment: Deployment, db: Session, factory: Factory, door: str) -> None:  # noqa: F811  # the imported pytest fixture, injected by name
    user, token = reader(deployment, factory, f"race-read-all-{door}")
    unread = 25
    for _ in range(unread):
        factory.notification(user)

    responses = all_at_once(deployment, door, "PUT", "/notifications/read-all", token)

    assert statuses(responses) == {200: CALLERS}, unexpected(responses, (200,))
    assert sum(r.json()["updated_count"] for r in responses) == unread
    db.expire_all()
    still_unread = select(func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.is_read.is_(False))
    assert db.scalar(still_unread) == 0


@pytest.mark.parametrize("door", DOORS)
def test_concurrent_mark_read_sets_read_at_once(
        deployment: Deployment, db: Session, factory: Factory, door: str) -> None:  # noqa: F811  # the imported pytest fixture, injected by name
    user, token = reader(deployment, factory, f"race-mark-read-{door}")
    notification_id = factory.notification(user).id

    responses = all_at_once(deployment, door, "PUT", f"/notifications/{notification_id}/read", token)

    assert statuses(responses) == {200: CALLERS}, unexpected(responses, (200,))
    db.expire_all()
    stored = db.get(Notification, notification_id)
    assert stored is not None and stored.read_at is not None
    # Every caller saw the one mark: the read_at the first writer set, never a later overwrite.
    assert {r.json()["notification"]["read_at"] for r in responses} == {
        responses[0].json()["notification"]["read_at"]}


@pytest.mark.parametrize("door", DOORS)
def test_concurrent_delete_read_counts_each_notification_once(
        deployment: Deployment, db: Session, factory: Factory, door: str) -> None:  # noqa: F811  # the imported pytest fixture, injected by name
    user, token = reader(deployment, factory, f"race-delete-read-{door}")
    read = 25
    for _ in range(read):
        factory.notification(user, is_read=True)

    responses = all_at_once(deployment, door, "DELETE", "/notifications/delete-read", token)

    assert statuses(responses) == {200: CALLERS}, unexpected(responses, (200,))
    assert sum(r.json()["deleted_count"] for r in responses) == read
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Notification).where(Notification.user_id == user.id)) == 0

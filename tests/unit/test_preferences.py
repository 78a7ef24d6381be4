"""Email recipient filtering by user preferences (contract 8.6)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from src.core.preferences import email_recipients, normalize_columns
from src.models import User, UserNotificationPreferences
from tests.conftest import Factory


def opt(db: Session, user: User, **flags: bool) -> None:
    db.add(UserNotificationPreferences(user_id=user.id, **flags))
    db.commit()


def test_non_users_are_always_kept(db: Session) -> None:
    assert email_recipients(db, ["a@x.io", "B@y.io"], "failure") == ["a@x.io", "B@y.io"]


def test_user_without_preferences_row_counts_as_opted_in(db: Session, factory: Factory) -> None:
    someone = factory.user("viewer")
    assert email_recipients(db, [someone.email], "success") == [someone.email]


def test_failure_flag_off_drops_address_case_insensitively(db: Session, factory: Factory) -> None:
    someone = factory.user("user", email="mixed@example.com")
    opt(db, someone, email_on_job_failure=False)
    assert email_recipients(db, [" Mixed@Example.COM", "other@example.com"], "failure") == ["other@example.com"]


def test_failure_flag_off_keeps_success_mail(db: Session, factory: Factory) -> None:
    someone = factory.user("user")
    opt(db, someone, email_on_job_failure=False, email_on_job_success=True)
    assert email_recipients(db, [someone.email], "success") == [someone.email]


def test_success_flag_off_drops_success_mail_only(db: Session, factory: Factory) -> None:
    someone = factory.user("user")
    opt(db, someone, email_on_job_success=False)
    assert email_recipients(db, [someone.email], "success") == []
    assert email_recipients(db, [someone.email], "failure") == [someone.email]


def test_empty_list_needs_no_query(db: Session) -> None:
    assert email_recipients(db, [], "failure") == []


def test_filtering_is_one_query_whatever_the_list_size(db: Session, factory: Factory) -> None:
    people = [factory.user("user") for _ in range(5)]
    for person in people[:3]:
        opt(db, person, email_on_job_failure=False)
    statements: list[Any] = []

    def count(*_args: Any) -> None:
        statements.append(1)

    engine = db.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        kept = email_recipients(db, [p.email for p in people] + ["stranger@example.com"], "failure")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert kept == [people[3].email, people[4].email, "stranger@example.com"]
    assert len(statements) == 1


def test_normalize_columns_keeps_exactly_five_keys() -> None:
    assert normalize_columns({"pic_team": 0, "x": True}) == {
        "pic_team": False, "end_date": True, "cron_expression": False, "target_url": False,
        "last_execution_at": False,
    }

"""Core user rules that no endpoint reaches alone: first admin (1.8), create_user, deletion without FK cascades."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from src.config import Settings
from src.core import users
from src.core.errors import Conflict, Invalid
from src.core.passwords import verify_password
from src.models import Job, Notification, User, UserNotificationPreferences, UserUiPreferences
from tests.conftest import Factory, make_settings


def settings_with(base: Settings, **overrides: object) -> Settings:
    return make_settings(base.DATABASE_URL, **overrides)


def test_first_admin_from_settings(db: Session, settings: Settings) -> None:
    configured = settings_with(settings, ADMIN_USERNAME="root", ADMIN_EMAIL="Root@Example.com",
                               ADMIN_PASSWORD="s3cret-pass")
    result = users.ensure_first_admin(db, configured)
    assert result is not None
    admin, generated = result
    assert generated is None
    assert (admin.username, admin.email, admin.role, admin.is_active) == ("root", "root@example.com", "admin", True)
    assert verify_password("s3cret-pass", admin.password_hash)


def test_first_admin_in_development_gets_generated_password(db: Session, settings: Settings) -> None:
    result = users.ensure_first_admin(db, settings)
    assert result is not None
    admin, generated = result
    assert (admin.username, admin.email, admin.role) == ("admin", "admin@example.com", "admin")
    assert generated and len(generated) >= 12
    assert verify_password(generated, admin.password_hash)


def test_generated_passwords_differ(db: Session, settings: Settings, factory: Factory) -> None:
    first = users.ensure_first_admin(db, settings)
    assert first is not None
    first[0].is_active = False
    db.flush()
    second = users.ensure_first_admin(db, settings)
    assert second is not None
    assert first[1] != second[1]


def test_first_admin_in_production_without_settings_is_none(db: Session, settings: Settings) -> None:
    production = settings_with(settings, FLASK_ENV="production")
    assert users.ensure_first_admin(db, production) is None
    assert db.scalars(select(User)).all() == []


def test_first_admin_in_production_with_settings(db: Session, settings: Settings) -> None:
    production = settings_with(settings, FLASK_ENV="production", ADMIN_USERNAME="ops", ADMIN_EMAIL="ops@corp.io",
                               ADMIN_PASSWORD="long-password")
    result = users.ensure_first_admin(db, production)
    assert result is not None and result[0].username == "ops" and result[1] is None


def test_no_first_admin_when_an_active_admin_exists(db: Session, settings: Settings, factory: Factory) -> None:
    factory.user("admin")
    assert users.ensure_first_admin(db, settings) is None


def test_inactive_admin_does_not_count(db: Session, settings: Settings, factory: Factory) -> None:
    factory.user("admin", is_active=False)
    assert users.ensure_first_admin(db, settings) is not None


def test_existing_user_with_the_admin_username_is_restored(db: Session, settings: Settings,
                                                           factory: Factory) -> None:
    old = factory.user("viewer", username="admin", email="old@example.com", is_active=False)
    result = users.ensure_first_admin(db, settings)
    assert result is not None
    restored, generated = result
    assert restored.id == old.id
    assert (restored.role, restored.is_active, restored.email) == ("admin", True, "old@example.com")
    assert generated is not None and verify_password(generated, restored.password_hash)


def test_create_user_applies_register_rules(db: Session) -> None:
    with pytest.raises(Invalid) as raised:
        users.create_user(db, username="ok-name", email="ok@example.com", password="123")
    assert raised.value.body() == {"error": "Password must be at least 6 characters long"}


def test_create_user_rejects_duplicates(db: Session, factory: Factory) -> None:
    existing = factory.user("user")
    with pytest.raises(Conflict) as raised:
        users.create_user(db, username="fresh", email=existing.email.upper(), password="pass1234")
    assert raised.value.body() == {"error": "Email already exists"}


def test_create_user_defaults_to_active_viewer(db: Session) -> None:
    created = users.create_user(db, username="newbie", email="newbie@example.com", password="pass1234")
    assert (created.role, created.is_active) == ("viewer", True)
    assert created.id is not None


def test_delete_user_works_without_foreign_key_cascades(db: Session, factory: Factory) -> None:
    actor = factory.user("admin")
    doomed = factory.user("user")
    job = factory.job(doomed)
    factory.notification(doomed)
    db.add_all([UserNotificationPreferences(user_id=doomed.id), UserUiPreferences(user_id=doomed.id)])
    db.commit()
    doomed_id, job_id = doomed.id, job.id
    # foreign_keys can only change outside a transaction: use a fresh connection state.
    db.close()
    with db.get_bind().connect() as connection:  # type: ignore[union-attr]  # None here fails the test, as it should
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        with Session(bind=connection) as session:
            users.delete_user(session, session.get(User, actor.id), doomed_id)  # type: ignore[arg-type]  # None here fails the test, as it should
            session.commit()
        for table, column in [(Notification, Notification.user_id),
                              (UserNotificationPreferences, UserNotificationPreferences.user_id),
                              (UserUiPreferences, UserUiPreferences.user_id)]:
            assert connection.execute(select(table).where(column == doomed_id)).all() == []
        assert connection.execute(select(Job.created_by).where(Job.id == job_id)).scalar_one() is None
        assert connection.execute(text("PRAGMA foreign_keys")).scalar_one() == 0

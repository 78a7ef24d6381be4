"""Mailer settings rules of contract 1.8 / 8.6 (delivery itself is tested against aiosmtpd)."""

from __future__ import annotations

from typing import Any

from src.config import Settings
from src.integrations.email import Mailer


def _mailer(**values: Any) -> Mailer:
    return Mailer(Settings(_env_file=None, **values))  # type: ignore[call-arg]  # pydantic-settings' _env_file is no declared field


def test_mail_is_skipped_without_a_username() -> None:
    assert _mailer(MAIL_ENABLED=True, MAIL_USERNAME="").enabled is False


def test_mail_is_skipped_when_switched_off() -> None:
    assert _mailer(MAIL_ENABLED=False, MAIL_USERNAME="mailer").enabled is False


def test_smtp_login_only_with_username_and_password() -> None:
    assert _mailer(MAIL_USERNAME="mailer", MAIL_PASSWORD="").enabled is True
    assert _mailer(MAIL_USERNAME="mailer", MAIL_PASSWORD="")._config().USE_CREDENTIALS is False
    assert _mailer(MAIL_USERNAME="mailer", MAIL_PASSWORD="pw")._config().USE_CREDENTIALS is True


def test_starttls_follows_mail_use_tls() -> None:
    assert _mailer(MAIL_USERNAME="m", MAIL_USE_TLS=True)._config().MAIL_STARTTLS is True
    assert _mailer(MAIL_USERNAME="m", MAIL_USE_TLS=False)._config().MAIL_STARTTLS is False


def test_default_sender_on_a_local_domain_is_accepted() -> None:
    config = _mailer(MAIL_USERNAME="m")._config()
    assert config.MAIL_FROM == "noreply@cronjobscheduler.local"

"""Email through fastapi-mail (contract 8.6): multipart HTML + text; a failure is a DeliveryFailed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pydantic import NameEmail, SecretStr

from src.config import Settings
from src.integrations.results import DeliveryFailed, without_secrets

if TYPE_CHECKING:
    from fastapi_mail import ConnectionConfig

SMTP_TIMEOUT_SECONDS = 30


class Mailer:
    """Sends through the SMTP server of the settings; `enabled` is false when email is off."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def enabled(self) -> bool:
        return bool(self.settings.MAIL_ENABLED and self.settings.MAIL_USERNAME)

    def _config(self) -> ConnectionConfig:
        # Imported on first use: fastapi-mail and what it loads (jinja2, aiosmtplib) take ~7 MB
        # in every worker, most of which never send an email (RSS goal, docs/PERFORMANCE.md).
        from fastapi_mail import ConnectionConfig

        s = self.settings
        # model_construct: fastapi-mail types MAIL_FROM as EmailStr, whose validator refuses
        # special-use domains such as the default sender's `.local`. The SMTP server decides.
        return ConnectionConfig.model_construct(
            MAIL_USERNAME=s.MAIL_USERNAME,
            MAIL_PASSWORD=SecretStr(s.MAIL_PASSWORD),
            MAIL_PORT=s.MAIL_PORT,
            MAIL_SERVER=s.MAIL_SERVER,
            MAIL_STARTTLS=s.MAIL_USE_TLS,
            MAIL_SSL_TLS=False,
            MAIL_DEBUG=0,
            MAIL_FROM=s.MAIL_DEFAULT_SENDER,
            MAIL_FROM_NAME=None,
            TEMPLATE_FOLDER=None,
            SUPPRESS_SEND=0,
            USE_CREDENTIALS=bool(s.MAIL_USERNAME and s.MAIL_PASSWORD),
            VALIDATE_CERTS=True,
            TIMEOUT=SMTP_TIMEOUT_SECONDS,
            LOCAL_HOSTNAME=None,
            CERT_BUNDLE=None,
        )

    async def send(self, recipients: Sequence[str], subject: str, html: str, text: str) -> bool:
        """Send one message to `recipients`: True once the SMTP server accepted it, False when email is
        off or nobody is to receive it; raises DeliveryFailed when the server is down or refuses."""
        if not self.enabled or not recipients:
            return False
        from fastapi_mail import FastMail, MessageSchema, MessageType  # on first use, as in _config
        from fastapi_mail.schemas import MultipartSubtypeEnum

        # model_construct for the same reason as above: recipient addresses are not re-validated.
        message = MessageSchema.model_construct(
            recipients=[NameEmail(address, address) for address in recipients],
            attachments=[],
            subject=subject,
            body=html,
            alternative_body=text,
            template_body=None,
            cc=[],
            bcc=[],
            reply_to=[],
            from_email=None,
            from_name=None,
            charset="utf-8",
            subtype=MessageType.html,
            multipart_subtype=MultipartSubtypeEnum.alternative,
            headers=None,
        )
        try:
            await FastMail(self._config()).send_message(message)
        except Exception as exc:  # noqa: BLE001 - mail problems never fail a run
            reason = f"SMTP to {len(recipients)} recipient(s) failed: {exc}"
            raise DeliveryFailed(without_secrets(reason, self.settings.MAIL_PASSWORD)) from exc
        return True

"""Email through fastapi-mail (placeholder)."""

from __future__ import annotations

from src.config import Settings


class Mailer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

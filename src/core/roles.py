"""Role gate of contract 1.5 (checked right after authentication, before any 404)."""

from __future__ import annotations

from collections.abc import Iterable

from src.core.errors import Forbidden
from src.models import User
from src.schemas.user_bodies import USER_ROLES

ROLES = USER_ROLES
ADMIN = ("admin",)
ADMIN_OR_USER = ("admin", "user")


def require_role(user: User, roles: Iterable[str]) -> None:
    allowed = tuple(roles)
    if user.role not in allowed:
        raise Forbidden(
            "Insufficient permissions",
            f"This endpoint requires one of the following roles: {', '.join(allowed)}",
        )

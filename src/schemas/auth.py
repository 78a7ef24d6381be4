"""Response bodies of the authentication endpoints (contract 3.2-3.7)."""

from __future__ import annotations

from typing import Any

from src.schemas.common import ApiModel
from src.schemas.users import UserOut


class LoginResponse(ApiModel):
    success: bool = True
    message: str = "Login successful"
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int
    user: UserOut


class RefreshResponse(ApiModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class LogoutResponse(ApiModel):
    success: bool = True
    message: str = "Logout successful"
    detail: str


class VerifyResponse(ApiModel):
    valid: bool = True
    user_id: str
    username: str
    role: str
    message: str = "Token is valid"


class MeResponse(UserOut):
    """The caller both nested under `user` and flattened, for clients of either historical shape."""

    user: UserOut

    @classmethod
    def of(cls, user: Any) -> MeResponse:
        out = UserOut.model_validate(user)
        return cls(user=out, **out.model_dump())

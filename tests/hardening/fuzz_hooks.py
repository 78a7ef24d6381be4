"""Schemathesis hooks of the stack run (SCHEMATHESIS_HOOKS=tests.hardening.fuzz_hooks; stack_fuzzing.py).

A fresh access token per case, minted from the caller's current row (role, email, token_version),
so a case that logs out or edits its own account never revokes the token of the next one (a
refresh token for the refresh operation); a caller a case deactivated or demoted is restored first.
Every status a schema-valid case got is appended to FUZZ_STATUS_LOG, so the runner can tell
which operations ever answered something but 401/403.
"""

from __future__ import annotations

import json
import os
from typing import Any

import schemathesis
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from src.config import Settings
from src.core.tokens import mint_token, new_session_id
from src.models import User

_settings = Settings()
_engine = create_engine(_settings.DATABASE_URL)


@schemathesis.auth(refresh_interval=None)  # never cached: one token per case
class FreshToken:
    def get(self, case: Any, context: Any) -> str:
        # The refresh operation takes a refresh token; every other one an access token.
        token_type = "refresh" if case.operation.path.endswith("/auth/refresh") else "access"
        with Session(_engine) as session:
            user = session.get(User, os.environ["FUZZ_USER_ID"])
            assert user is not None, "the fuzzing caller's row was deleted"
            # An admin case may deactivate or demote its own caller (3.11 allows it while another
            # admin remains): every later case would then be a 401/403 and test nothing else.
            if not user.is_active or user.role != os.environ["FUZZ_ROLE"]:
                user.is_active, user.role = True, os.environ["FUZZ_ROLE"]
                session.commit()
            return mint_token(_settings, user, token_type, fresh=token_type == "access",
                              session_id=new_session_id()).token

    def set(self, case: Any, data: str, context: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@schemathesis.hook
def after_call(context: Any, case: Any, response: Any) -> None:
    # Only schema-valid cases count: a negative one may well be refused before authentication.
    generation = getattr(case.meta, "generation", None) if case.meta is not None else None
    if generation is not None and generation.mode.value != "positive":
        return
    with open(os.environ["FUZZ_STATUS_LOG"], "a", encoding="utf-8") as log:
        log.write(json.dumps([case.operation.method.upper(), case.operation.path, response.status_code]) + "\n")

"""Classes 7 and 8: tokens end when they should, and the tables that only grew are pruned.

7. Logout with no body ends the refresh token of that login; a password change and a
   deactivation end every token issued before them; the last active admin cannot be demoted or
   deactivated (409 in the envelope). Run last: a demotion that wrongly succeeds costs the admin.
8. Revoked tokens past their expiry and job-deletion tombstones past retention are gone after
   `python -m src.cli prune`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bench.hostile.accounts import register
from bench.hostile.report import ClassReport, describe, envelope_ok
from bench.hostile.stack import ADMIN, PREFIXES, HostileStack
from src.database.engines import create_sync_engine_from_settings, make_session_factory
from src.models import JobDeletion, RevokedToken
from tests.conftest import make_settings


def _login(stack: HostileStack, prefix: str, username: str, password: str) -> dict[str, str]:
    with stack.new_client() as client:
        response = client.post(f"{prefix}/auth/login", json={"username": username, "password": password})
    response.raise_for_status()
    return dict(response.json())


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def probe_token_hygiene(stack: HostileStack) -> ClassReport:
    report = ClassReport(7, "logout ends refresh, password change ends tokens, last admin")
    with stack.new_client() as client:
        for door, prefix in PREFIXES.items():
            user = register(stack, f"tokens-{door}")
            login = _login(stack, prefix, user["username"], user["password"])
            client.post(f"{prefix}/auth/logout", headers=_bearer(login["access_token"]))  # the SPA sends no body
            refreshed = client.post(f"{prefix}/auth/refresh", headers=_bearer(login["refresh_token"]))
            report.check(refreshed.status_code == 401, f"{door}: refresh after logout: {describe(refreshed)}")

            login = _login(stack, prefix, user["username"], user["password"])
            changed = client.put(f"{prefix}/auth/users/{user['id']}", headers=stack.auth(door),
                                 json={"password": user["password"] + "-new"})
            changed.raise_for_status()
            for kind in ("access_token", "refresh_token"):
                path = "/auth/me" if kind == "access_token" else "/auth/refresh"
                method = "GET" if kind == "access_token" else "POST"
                response = client.request(method, prefix + path, headers=_bearer(login[kind]))
                report.check(response.status_code == 401,
                             f"{door}: {kind} issued before a password change: {describe(response)}")

            other = register(stack, f"deactivated-{door}")
            login = _login(stack, prefix, other["username"], other["password"])
            client.put(f"{prefix}/auth/users/{other['id']}", headers=stack.auth(door),
                       json={"is_active": False}).raise_for_status()
            response = client.post(f"{prefix}/auth/refresh", headers=_bearer(login["refresh_token"]))
            report.check(response.status_code == 401, f"{door}: refresh token after deactivation: {describe(response)}")

        me = client.get("/api/v2/auth/me", headers=stack.auth()).json()["user"]
        admins = [u for u in client.get("/api/v2/auth/users", headers=stack.auth()).json()["users"]
                  if u["role"] == "admin" and u["is_active"]]
        if [a["username"] for a in admins] != [ADMIN["username"]]:
            report.figures.append(f"last-admin cases skipped: active admins {[a['username'] for a in admins]}")
            return report
        for door, change in (("flask", {"role": "user"}), ("fastapi", {"is_active": False})):
            response = client.put(f"{PREFIXES[door]}/auth/users/{me['id']}", headers=stack.auth(door), json=change)
            report.check(response.status_code == 409 and envelope_ok(response),
                         f"{door}: {change} on the last active admin: {describe(response)}")
    return report


def probe_pruning(stack: HostileStack) -> ClassReport:
    report = ClassReport(8, "revoked tokens and tombstones pruned by `src.cli prune`")
    engine = create_sync_engine_from_settings(make_settings(stack.database_url))
    sessions = make_session_factory(engine)
    long_ago = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=3650)
    revoked, tombstone = uuid.uuid4().hex, str(uuid.uuid4())
    try:
        with sessions() as session:
            session.add(RevokedToken(jti=revoked, expires_at=long_ago, revoked_at=long_ago))
            session.add(JobDeletion(job_id=tombstone, deleted_at=long_ago))
            session.commit()
        done = stack.cli("prune")
        report.figures.append(
            f"prune: {done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-200:]}"
        )
        with sessions() as session:
            left_revoked = session.scalar(select(func.count()).select_from(RevokedToken)
                                          .where(RevokedToken.jti == revoked))
            left_tombstones = session.scalar(select(func.count()).select_from(JobDeletion)
                                             .where(JobDeletion.job_id == tombstone))
    finally:
        engine.dispose()
    report.check(left_revoked == 0, "a revocation that expired ten years ago is still stored")
    report.check(left_tombstones == 0, "a job-deletion tombstone from ten years ago is still stored")
    return report

"""Throwaway accounts for the probes, registered by the admin through the v2 door."""

from __future__ import annotations

import itertools
import time

from bench.hostile.stack import HostileStack

PASSWORD = "hostile-user-pass-1"
_numbers = itertools.count(1)


def register(stack: HostileStack, label: str, role: str = "viewer") -> dict[str, str]:
    """A new active account: its id, username, email and password."""
    username = f"{label}-{next(_numbers)}-{time.time_ns() % 100000}"
    with stack.new_client() as client:
        response = client.post("/api/v2/auth/register", headers=stack.auth(), json={
            "username": username, "email": f"{username}@example.com", "password": PASSWORD, "role": role})
    response.raise_for_status()
    return {"id": response.json()["user"]["id"], "username": username, "email": f"{username}@example.com",
            "password": PASSWORD}

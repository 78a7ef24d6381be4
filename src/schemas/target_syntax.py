"""How a job's `target_url` is read (contract 7.1 rules 5-6, 7.3): pure rules request models state."""

from __future__ import annotations

from dataclasses import dataclass

WEBHOOK_SCHEMES = ("http://", "https://")


@dataclass(frozen=True)
class GithubTarget:
    owner: str
    repo: str
    workflow: str


def github_shorthand(target_url: str | None) -> GithubTarget | None:
    """`owner/repo/workflow` written in target_url (no `://`, three parts, no `.` in owner)."""
    if not target_url or "://" in target_url:
        return None
    parts = target_url.strip().split("/")
    if len(parts) != 3 or not all(parts) or "." in parts[0]:
        return None
    return GithubTarget(*parts)


def is_webhook_url(value: str) -> bool:
    return value.lower().startswith(WEBHOOK_SCHEMES)

"""Job targets (contract 7.3): GitHub shorthand in target_url, and dispatch URL parsing."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from src.core.errors import Invalid

DISPATCH_URL_FORMAT_MESSAGE = (
    "Invalid dispatch URL format. Expected one of: <owner>/<repo>/<workflow>, "
    "/<owner>/<repo>/actions/workflows/<workflow>, or "
    "https://github.com/<owner>/<repo>/actions/workflows/<workflow>."
)
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


def parse_dispatch_url(value: str) -> GithubTarget:
    """Owner/repo/workflow from any accepted dispatch-URL form, else Invalid with the format hint."""
    text = value.strip()
    path = urlsplit(text).path if "://" in text else text
    parts = [p for p in path.split("/") if p]
    if text.startswith("/") or "://" in text:
        # /owner/repo/actions/workflows/wf  |  https://github.com/owner/repo/actions/workflows/wf
        if len(parts) == 5 and parts[2:4] == ["actions", "workflows"]:
            return GithubTarget(parts[0], parts[1], parts[4])
        # https://api.github.com/repos/owner/repo/actions/workflows/wf/dispatches
        if (
            len(parts) == 7
            and parts[0] == "repos"
            and parts[3:5] == ["actions", "workflows"]
            and parts[6] == "dispatches"
        ):
            return GithubTarget(parts[1], parts[2], parts[5])
        if "://" not in text and len(parts) == 3:
            return GithubTarget(*parts)
        raise Invalid("Invalid dispatch_url", DISPATCH_URL_FORMAT_MESSAGE)
    if len(parts) == 3 and len(text.split("/")) == 3:
        return GithubTarget(*parts)
    if len(parts) == 5 and parts[2:4] == ["actions", "workflows"]:
        return GithubTarget(parts[0], parts[1], parts[4])
    raise Invalid("Invalid dispatch_url", DISPATCH_URL_FORMAT_MESSAGE)


def is_webhook_url(value: str) -> bool:
    return value.lower().startswith(WEBHOOK_SCHEMES)

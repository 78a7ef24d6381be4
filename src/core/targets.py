"""Job targets (contract 7.3): GitHub shorthand in target_url, and dispatch URL parsing."""

from __future__ import annotations

from urllib.parse import urlsplit

from src.core.errors import Invalid

# Re-exported for the core's callers.
from src.schemas.target_syntax import GithubTarget as GithubTarget
from src.schemas.target_syntax import github_shorthand as github_shorthand
from src.schemas.target_syntax import is_webhook_url as is_webhook_url

DISPATCH_URL_FORMAT_MESSAGE = (
    "Invalid dispatch URL format. Expected one of: <owner>/<repo>/<workflow>, "
    "/<owner>/<repo>/actions/workflows/<workflow>, or "
    "https://github.com/<owner>/<repo>/actions/workflows/<workflow>."
)


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


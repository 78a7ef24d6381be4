"""slugify (contract 7.4)."""

from __future__ import annotations

import re

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def slugify(value: str) -> str:
    """Lower-case; runs outside [a-z0-9] become one `-`; edges stripped (`Équipe A` → `quipe-a`)."""
    return _NON_ALNUM.sub("-", value.lower()).strip("-")

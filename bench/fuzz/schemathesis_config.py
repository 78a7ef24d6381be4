"""The schemathesis.toml the stack run uses: where the contract answers 4xx to schema-valid input."""

from __future__ import annotations

from pathlib import Path

CONFIG = """
[generation]
allow-x00 = true
codec = "utf-8"
"""


def write_config(path: Path) -> None:
    path.write_text(CONFIG)

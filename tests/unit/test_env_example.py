"""`.env.example` documents every setting and loads as it is."""

from __future__ import annotations

import re

import pytest

from src.config import PROJECT_ROOT, Settings

ENV_EXAMPLE = PROJECT_ROOT / ".env.example"
SETTING_LINE = re.compile(r"^(?:# )?([A-Z][A-Z0-9_]*)=")


def documented_names() -> list[str]:
    return [m.group(1) for line in ENV_EXAMPLE.read_text().splitlines() if (m := SETTING_LINE.match(line))]


def test_env_example_lists_every_setting_once() -> None:
    names = documented_names()
    assert sorted(names) == sorted(Settings.model_fields)


def test_every_setting_has_a_comment_line_above_it() -> None:
    lines = ENV_EXAMPLE.read_text().splitlines()
    for index, line in enumerate(lines):
        if SETTING_LINE.match(line) and not line.startswith("# "):
            assert lines[index - 1].startswith("# "), f"{line} has no comment"


def test_env_example_loads_as_the_built_in_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(name, raising=False)
    from_file = Settings(_env_file=ENV_EXAMPLE)  # type: ignore[call-arg]  # pydantic-settings' _env_file is no declared field
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]  # pydantic-settings' _env_file is no declared field
    assert from_file.model_dump() == defaults.model_dump()

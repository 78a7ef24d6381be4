"""`python -m src.cli parity report` without --json: what an operator reads in a terminal."""

from __future__ import annotations

import pytest

from src.cli import main
from src.shadow.report import format_report

REPORT = {"since": "2026-12-04T10:00:00.000Z", "routes": [
    {"route": "GET /api/job-categories", "compared": 4, "matched": 2, "mismatched": 2, "raced": 0,
     "first_seen": "2026-12-04T10:01:00.000Z", "last_seen": "2026-12-04T10:05:00.000Z",
     "differences": [{"id": 7, "paths": ["$.categories[*].slug"], "count": 2, "first_seen": "…",
                      "last_seen": "…", "explanation": None,
                      "samples": [{"seen_at": "2026-12-04T10:05:00.000Z", "request_id": "abc",
                                   "values": [{"path": "$.categories[0].slug", "legacy": "qa", "v2": "QA"}]}]}]},
]}


def test_text_report_lists_counts_and_each_unexplained_difference() -> None:
    text = format_report(REPORT)
    assert "GET /api/job-categories         4        2           2      0" in text
    assert "difference 7 of GET /api/job-categories: 2 time(s), UNEXPLAINED" in text
    assert '$.categories[0].slug: legacy "qa" | v2 "QA"' in text


def test_text_report_without_comparisons_says_so() -> None:
    assert format_report({"since": "x", "routes": []}).startswith("no shadow reads compared since x")


def test_explain_needs_an_id_and_a_reason(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parity", "explain", "3"]) == 2
    assert "needs the difference id and --reason" in capsys.readouterr().err

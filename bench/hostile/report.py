"""Cases tried and failures of one probe class, and the table the runner prints."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class ClassReport:
    number: int
    title: str
    tried: int = 0
    failures: list[str] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)

    def check(self, ok: bool, case: str) -> bool:
        """Count one case; a failed one is kept with its description."""
        self.tried += 1
        if not ok:
            self.failures.append(case)
        return ok


def envelope_ok(response: httpx.Response) -> bool:
    """A 4xx in the contract's envelope: a JSON object with a string `error`."""
    try:
        body: Any = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and isinstance(body.get("error"), str)


def describe(response: httpx.Response) -> str:
    return f"{response.status_code} {response.text[:160]!r}"


def print_reports(reports: list[ClassReport]) -> None:
    print(f"{'class':<5} {'probe':<58} {'tried':>6} {'failures':>9}")
    for report in sorted(reports, key=lambda r: r.number):
        print(f"{report.number:<5} {report.title:<58} {report.tried:>6} {len(report.failures):>9}")
        for figure in report.figures:
            print(f"      {figure}")
        for failure in report.failures[:12]:
            print(f"      FAIL {failure}")
        if len(report.failures) > 12:
            print(f"      ... and {len(report.failures) - 12} more")
    tried = sum(r.tried for r in reports)
    failed = sum(len(r.failures) for r in reports)
    print(f"total: cases tried {tried}, failures {failed}")

"""Class 9: instants before year 1000 are written with a four-digit year (ISO 8601)."""

from __future__ import annotations

from bench.hostile.report import ClassReport, describe
from bench.hostile.stack import PREFIXES, HostileStack

CASES = [
    ("/executions/statistics", "to", "0001-01-01", "0001-01-0"),
    ("/notifications", "from", "0010-05-05", "0010-05-0"),
    ("/notifications/unread-count", "to", "0999-12-30", "0999-12-3"),
]


def probe(stack: HostileStack) -> ClassReport:
    report = ClassReport(9, "dates before year 1000 keep four digits")
    with stack.new_client() as client:
        for door, prefix in PREFIXES.items():
            for path, key, value, expected_start in CASES:
                response = client.get(prefix + path, headers=stack.auth(door), params={key: value})
                echoed = str((response.json().get("range") or {}).get(key)) if response.status_code == 200 else ""
                report.check(echoed.startswith(expected_start),
                             f"{door} {path}?{key}={value}: range.{key} = {echoed!r} ({describe(response)[:60]})")
    return report

"""The parity report as an operator reads it in a terminal (`python -m src.cli parity report`)."""

from __future__ import annotations

import json
from typing import Any


def format_report(report: dict[str, Any]) -> str:
    """One line per route, then each difference with its paths and samples (values already redacted)."""
    routes = report["routes"]
    if not routes:
        return f"no shadow reads compared since {report['since']} (side-by-side phase, SHADOW_READS on?)"
    width = max(len(route["route"]) for route in routes)
    lines = [f"shadow reads since {report['since']}",
             f"{'route'.ljust(width)}  compared  matched  mismatched  raced  last seen"]
    for route in routes:
        lines.append(f"{route['route'].ljust(width)}  {route['compared']:>8}  {route['matched']:>7}  "
                     f"{route['mismatched']:>10}  {route['raced']:>5}  {route['last_seen']}")
    for route in routes:
        for difference in route["differences"]:
            state = f"explained: {difference['explanation']}" if difference["explanation"] else "UNEXPLAINED"
            lines.append(f"\ndifference {difference['id']} of {route['route']}: {difference['count']} time(s), {state}")
            lines.append(f"  paths: {', '.join(difference['paths'])}")
            for sample in difference["samples"]:
                lines.append(f"  sample {sample['seen_at']} request {sample['request_id']}:")
                lines.extend(f"    {value['path']}: legacy {json.dumps(value['legacy'])} | v2 {json.dumps(value['v2'])}"
                             for value in sample["values"])
    return "\n".join(lines)

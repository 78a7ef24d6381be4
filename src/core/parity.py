"""Shadow-read parity: tallies of compared /api reads per route, the report, and the cutover gate.

The comparer (src/shadow) hands finished comparisons over as a `ParityBatch`; `record_batch`
adds them to hourly counts and to the distinct differences of each route (with at most N
redacted samples). The report and the gate read the same rows for a recent window.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from src.core.clock import format_utc, utcnow
from src.core.errors import Invalid, NotFound
from src.core.unit_of_work import unit_of_work
from src.models import ParityCount, ParityDifference

Outcome = Literal["matched", "mismatched", "raced"]
OUTCOMES: tuple[Outcome, ...] = ("matched", "mismatched", "raced")
DEFAULT_WINDOW = "24h"
# 6.12's window: n (1..999999, leading zeros allowed, six digits at most) then m, h or d, with
# whitespace around; in ASCII classes so the document (the route's `since` pattern) and this
# parser read it alike.
_SPACE = r"[ \t\n\r\f\v]*"
_POSITIVE = r"(?:[1-9][0-9]{0,5}|0[1-9][0-9]{0,4}|00[1-9][0-9]{0,3}|000[1-9][0-9]{0,2}|0000[1-9][0-9]?|00000[1-9])"
WINDOW_PATTERN = f"^{_SPACE}({_POSITIVE}){_SPACE}([mhd]){_SPACE}$"
_WINDOW = re.compile(WINDOW_PATTERN)
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400}
_INDEX = re.compile(r"\[\d+\]")
# Longest text kept of one sampled value: a sample shows the difference, not the whole resource.
MAX_SAMPLE_VALUE_CHARS = 200


def parse_window(text: str | None) -> timedelta:
    """`30m`, `24h`, `7d` as a timedelta; anything else is a 400."""
    match = _WINDOW.fullmatch(text if text is not None else DEFAULT_WINDOW)
    if match is None:
        raise Invalid("Invalid since", "since must be a positive whole number followed by m, h or d (e.g. 24h).")
    return timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])


def hour_of(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class ValueDifference:
    """One JSON path whose values differ; values already redacted by the comparer."""

    path: str
    legacy: Any
    v2: Any

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "legacy": _clip(self.legacy), "v2": _clip(self.v2)}


def _clip(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        text = json.dumps(value, sort_keys=True)
        return value if len(text) <= MAX_SAMPLE_VALUE_CHARS else text[:MAX_SAMPLE_VALUE_CHARS] + "…"
    if isinstance(value, str) and len(value) > MAX_SAMPLE_VALUE_CHARS:
        return value[:MAX_SAMPLE_VALUE_CHARS] + "…"
    return value


def pattern_of(path: str) -> str:
    """`$.jobs[3].name` → `$.jobs[*].name`: one difference whichever rows it shows up in."""
    return _INDEX.sub("[*]", path)


def signature_of(paths: list[str]) -> str:
    """A difference is identified by its route and the set of paths that disagree."""
    return hashlib.sha256("\n".join(sorted(paths)).encode()).hexdigest()


@dataclass
class _RouteTally:
    compared: int = 0
    matched: int = 0
    mismatched: int = 0
    raced: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None


@dataclass
class _DifferenceTally:
    paths: list[str]
    count: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    samples: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ParityBatch:
    """Comparisons finished since the last write, aggregated in memory (one write per flush)."""

    sample_limit: int = 5
    counts: dict[tuple[str, datetime], _RouteTally] = field(default_factory=dict)
    differences: dict[tuple[str, str], _DifferenceTally] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.counts)

    def add(self, route: str, outcome: Outcome, seen_at: datetime,
            differences: list[ValueDifference] | None = None, request_id: str | None = None) -> None:
        tally = self.counts.setdefault((route, hour_of(seen_at)), _RouteTally())
        tally.compared += 1
        setattr(tally, outcome, getattr(tally, outcome) + 1)
        tally.first_seen = tally.first_seen or seen_at
        tally.last_seen = seen_at
        if outcome != "mismatched" or not differences:
            return
        paths = sorted({pattern_of(difference.path) for difference in differences})
        kept = self.differences.setdefault((route, signature_of(paths)), _DifferenceTally(paths))
        kept.count += 1
        kept.first_seen = kept.first_seen or seen_at
        kept.last_seen = seen_at
        if len(kept.samples) < self.sample_limit:
            kept.samples.append({"seen_at": format_utc(seen_at), "request_id": request_id,
                                 "values": [difference.as_dict() for difference in differences]})


def record_batch(sessions: Callable[[], Session], batch: ParityBatch) -> None:
    """Add a batch to the stored counts and differences in a unit of work; one retry when another
    process inserted the same new row at the same moment."""
    for attempt in (1, 2):
        try:
            with unit_of_work(sessions) as session:
                _apply(session, batch)
            return
        except IntegrityError:
            if attempt == 2:
                raise


def _apply(session: Session, batch: ParityBatch) -> None:
    # Counts are added in SQL (`compared = compared + n`): FastAPI processes on several hosts may
    # flush the same route and hour at once, and a read-modify-write would lose one of them.
    for (route, hour), tally in batch.counts.items():
        added = session.execute(
            update(ParityCount).where(ParityCount.route == route, ParityCount.hour == hour).values(
                compared=ParityCount.compared + tally.compared, matched=ParityCount.matched + tally.matched,
                mismatched=ParityCount.mismatched + tally.mismatched, raced=ParityCount.raced + tally.raced,
                last_seen=_later(ParityCount.last_seen, tally.last_seen)))
        if added.rowcount == 0:  # type: ignore[attr-defined]  # rowcount is on CursorResult, typed Result
            session.add(ParityCount(route=route, hour=hour, compared=tally.compared, matched=tally.matched,
                                    mismatched=tally.mismatched, raced=tally.raced,
                                    first_seen=tally.first_seen, last_seen=tally.last_seen))
    for (route, signature), kept in batch.differences.items():
        where = (ParityDifference.route == route, ParityDifference.signature == signature)
        added = session.execute(update(ParityDifference).where(*where).values(
            count=ParityDifference.count + kept.count, last_seen=_later(ParityDifference.last_seen, kept.last_seen)))
        if added.rowcount == 0:  # type: ignore[attr-defined]  # rowcount is on CursorResult, typed Result
            session.add(ParityDifference(route=route, signature=signature, paths=json.dumps(kept.paths),
                                         count=kept.count, first_seen=kept.first_seen, last_seen=kept.last_seen,
                                         samples=json.dumps(kept.samples[:batch.sample_limit])))
            continue
        # Samples are examples: two processes topping them up at once may keep one's, not both.
        stored = json.loads(session.execute(select(ParityDifference.samples).where(*where)).scalar_one())
        room = max(0, batch.sample_limit - len(stored))
        if room and kept.samples:
            session.execute(update(ParityDifference).where(*where).values(
                samples=json.dumps(stored + kept.samples[:room])))
    session.flush()


def _later(column: Any, value: datetime | None) -> Any:
    return column if value is None else case((column < value, value), else_=column)


def _difference_out(row: ParityDifference) -> dict[str, Any]:
    return {
        "id": row.id,
        "paths": json.loads(row.paths),
        "count": row.count,
        "first_seen": format_utc(row.first_seen),
        "last_seen": format_utc(row.last_seen),
        "explanation": row.explanation,
        "samples": json.loads(row.samples),
    }


def parity_report(session: Session, since: timedelta, now: datetime | None = None) -> dict[str, Any]:
    """Per-route counts of the window (whole hours: counts are kept per hour) and its differences."""
    now = now or utcnow()
    # A window longer than the calendar behind now (999999d) starts at its beginning.
    start = hour_of(now - since) if since < now - datetime.min else datetime.min
    totals = session.execute(
        select(ParityCount.route, func.sum(ParityCount.compared), func.sum(ParityCount.matched),
               func.sum(ParityCount.mismatched), func.sum(ParityCount.raced),
               func.min(ParityCount.first_seen), func.max(ParityCount.last_seen))
        .where(ParityCount.hour >= start).group_by(ParityCount.route).order_by(ParityCount.route)
    ).all()
    differences: dict[str, list[dict[str, Any]]] = {}
    for row in session.execute(select(ParityDifference).where(ParityDifference.last_seen >= start)
                               .order_by(ParityDifference.route, ParityDifference.id)).scalars():
        differences.setdefault(row.route, []).append(_difference_out(row))
    routes = [
        {"route": route, "compared": int(compared), "matched": int(matched), "mismatched": int(mismatched),
         "raced": int(raced), "first_seen": format_utc(first), "last_seen": format_utc(last),
         "differences": differences.get(route, [])}
        for route, compared, matched, mismatched, raced, first, last in totals
    ]
    return {"since": format_utc(start), "routes": routes}


@dataclass(frozen=True)
class UnexplainedDifference:
    id: int
    route: str
    paths: list[str]
    count: int

    def describe(self) -> str:
        return f"{self.route}: {self.count} mismatch(es) at {', '.join(self.paths)} (difference {self.id})"


def unexplained_differences(
    session: Session, since: timedelta, now: datetime | None = None
) -> list[UnexplainedDifference]:
    """Differences seen in the window that no operator has explained: what blocks a cutover."""
    now = now or utcnow()
    # A window longer than the calendar behind now (999999d) starts at its beginning.
    start = hour_of(now - since) if since < now - datetime.min else datetime.min
    rows = session.execute(
        select(ParityDifference).where(ParityDifference.last_seen >= start, ParityDifference.explanation.is_(None))
        .order_by(ParityDifference.route, ParityDifference.id)).scalars()
    return [UnexplainedDifference(row.id, row.route, json.loads(row.paths), row.count) for row in rows]


def explain_difference(session: Session, difference_id: int, explanation: str) -> ParityDifference:
    """Accept a difference as understood (the caller commits); the gate then lets it through."""
    text = explanation.strip()
    if not text:
        raise Invalid("Invalid explanation", "An explanation must say why the difference is acceptable.")
    row = session.get(ParityDifference, difference_id)
    if row is None:
        raise NotFound("Difference not found", f"No recorded difference has id {difference_id}.")
    row.explanation = text
    session.flush()
    return row

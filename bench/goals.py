"""Issue 6's goals as data: one `Goal` per target, printed as `GOAL <name>: <measured> (target <target>) met|missed`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


def _number(value: float) -> str:
    """Integers without decimals, small values with two, so the lines stay short and comparable."""
    if value != value:  # NaN: nothing was measured
        return "n/a"
    if abs(value) >= 100 or float(value).is_integer():
        return f"{value:.0f}"
    return f"{value:.2f}"


@dataclass(frozen=True)
class Goal:
    """A measured figure against its target; `higher_is_better=False` for latencies, memory, lag."""

    name: str
    measured: float
    target: float
    unit: str = ""
    higher_is_better: bool = True

    @property
    def met(self) -> bool:
        if self.measured != self.measured:  # NaN: a run that measured nothing misses its goal
            return False
        if self.higher_is_better:
            return self.measured >= self.target
        return self.measured <= self.target

    def line(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        comparison = ">=" if self.higher_is_better else "<="
        return (f"GOAL {self.name}: {_number(self.measured)}{unit} "
                f"(target {comparison}{_number(self.target)}{unit}) {'met' if self.met else 'missed'}")


def print_goals(goals: Iterable[Goal]) -> int:
    """Print one line per goal; returns how many were missed."""
    missed = 0
    for goal in goals:
        print(goal.line())
        missed += not goal.met
    return missed

"""The soak's fire accounting (bench/soak/fires.py): arrivals attributed through execution rows."""

from __future__ import annotations

from bench.soak.fires import RunRow, count_fires, covered_minutes
from bench.soak.receiver import Arrival

M = 1_800_000_000 - 1_800_000_000 % 60  # a whole minute


def arrival(job: str, at: float) -> Arrival:
    return Arrival(f"/fire/{job}", job, at)


def test_covered_minutes_are_the_whole_minutes_inside_the_window() -> None:
    assert covered_minutes(M + 10, M + 130) == [M + 60, M + 120]
    assert covered_minutes(M, M + 60) == [M]


def test_an_arrival_more_than_a_minute_late_counts_for_its_scheduled_minute_and_as_late() -> None:
    rows = [RunRow("a", M, M + 50, M + 75, "success"), RunRow("a", M + 60, M + 76, M + 77, "success")]
    fires = count_fires([arrival("a", M + 70), arrival("a", M + 76.5)], {"a"}, [M, M + 60], rows)
    assert (fires.distinct, fires.lost, fires.duplicates, fires.unmatched_arrivals) == (2, 0, 0, 0)
    assert (fires.lag_max_s, fires.late) == (70, 1)


def test_two_arrivals_of_one_scheduled_run_are_a_duplicate_and_a_missing_fire_is_lost() -> None:
    rows = [RunRow("a", M, M + 1, M + 3, "success")]
    fires = count_fires([arrival("a", M + 1.5), arrival("a", M + 2.5)], {"a", "b"}, [M], rows)
    assert (fires.arrived, fires.distinct, fires.duplicates, fires.lost, fires.db_lost) == (2, 1, 1, 1, 1)


def test_an_arrival_no_row_explains_is_unmatched_and_counted_by_its_arrival_minute() -> None:
    fires = count_fires([arrival("a", M + 5)], {"a"}, [M], [])
    assert (fires.unmatched_arrivals, fires.distinct, fires.lost) == (1, 1, 0)

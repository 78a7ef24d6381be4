"""Cron semantics (contract 7.2): one standard-crontab interpretation for every use."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from src.core.cron import BLANK_REASON, FIELD_COUNT_REASON, cron_problem, next_fire, next_runs
from src.schemas.contract_errors import Refused, field_value
from src.schemas.job_bodies import JobCreateRequest

TOKYO = ZoneInfo("Asia/Tokyo")
# Monday 2025-12-22 00:00 JST
MONDAY = datetime(2025, 12, 22, 0, 0, tzinfo=TOKYO)


def weekdays_of(expression: str, count: int = 14) -> list[int]:
    """isoweekday (1 = Monday … 7 = Sunday) of the next fires from MONDAY."""
    return [run.isoweekday() for run in next_runs(expression, TOKYO, count, MONDAY)]


def test_one_to_five_means_monday_to_friday() -> None:
    assert set(weekdays_of("0 9 * * 1-5")) == {1, 2, 3, 4, 5}


@pytest.mark.parametrize("sunday", ["0", "7", "sun", "SUN"])
def test_zero_seven_and_sun_mean_sunday(sunday: str) -> None:
    assert set(weekdays_of(f"0 9 * * {sunday}", 3)) == {7}


def test_month_names_are_accepted() -> None:
    runs = next_runs("0 0 1 jan *", TOKYO, 2, MONDAY)
    assert [(run.month, run.day) for run in runs] == [(1, 1), (1, 1)]


def test_day_of_month_and_day_of_week_combine_with_or() -> None:
    runs = next_runs("0 0 13 * 5", TOKYO, 6, MONDAY)
    assert all(run.day == 13 or run.isoweekday() == 5 for run in runs)
    assert any(run.day == 13 and run.isoweekday() != 5 for run in runs)
    assert any(run.isoweekday() == 5 and run.day != 13 for run in runs)


def test_an_expression_that_never_fires_is_valid_with_no_runs() -> None:
    assert cron_problem("0 0 31 2 *") is None
    assert next_runs("0 0 31 2 *", TOKYO, 5, MONDAY) == []
    assert next_fire("0 0 31 2 *", TOKYO, MONDAY) is None


def test_fires_are_in_the_scheduler_timezone() -> None:
    run = next_runs("0 2 * * *", TOKYO, 1, MONDAY)[0]
    assert run.isoformat() == "2025-12-22T02:00:00+09:00"


def test_a_fire_at_exactly_now_counts() -> None:
    assert next_fire("0 0 * * *", TOKYO, MONDAY) == MONDAY
    assert next_runs("0 0 * * *", TOKYO, 1, MONDAY) == [MONDAY]


def test_next_fire_moves_on_once_the_minute_has_started() -> None:
    later = MONDAY.replace(second=1)
    assert next_fire("0 0 * * *", TOKYO, later) == datetime(2025, 12, 23, 0, 0, tzinfo=TOKYO)


def test_next_fire_of_an_unparseable_expression_is_none() -> None:
    assert next_fire("@daily", TOKYO, MONDAY) is None


@pytest.mark.parametrize("expression", ["", "   ", None, 5])
def test_blank_or_non_text_expressions_are_required(expression: object) -> None:
    assert cron_problem(expression) == BLANK_REASON


@pytest.mark.parametrize("expression", ["@daily", "0 2 * *", "0 0 2 * * *", "0 0 2 * * * 2030"])
def test_macros_and_other_field_counts_are_invalid(expression: str) -> None:
    assert cron_problem(expression) == FIELD_COUNT_REASON


@pytest.mark.parametrize(
    "expression", ["61 * * * *", "* 24 * * *", "* * 32 * *", "* * * 13 *", "* * * * 8", "x * * * *"]
)
def test_out_of_range_or_garbage_fields_report_the_parser_reason(expression: str) -> None:
    problem = cron_problem(expression)
    assert problem and problem not in (BLANK_REASON, FIELD_COUNT_REASON)


def test_the_job_body_cron_rule_normalizes_whitespace() -> None:
    assert field_value(JobCreateRequest, "cron_expression", "  0   2 * *\t* ") == "0 2 * * *"


def test_the_job_body_cron_rule_refuses_with_the_reason() -> None:
    with pytest.raises(Refused) as raised:
        field_value(JobCreateRequest, "cron_expression", "0 2 * *")
    assert raised.value.body == {"error": "Invalid cron expression", "message": FIELD_COUNT_REASON}


def test_next_runs_are_consecutive_and_aware() -> None:
    runs = next_runs("*/15 * * * *", TOKYO, 4, datetime(2025, 12, 22, 0, 1, tzinfo=UTC))
    assert [run.minute for run in runs] == [15, 30, 45, 0]
    assert all(run.utcoffset() is not None for run in runs)

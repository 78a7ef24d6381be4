"""What counts as a difference between two answers, and what a stored sample may show."""

from __future__ import annotations

from src.core.parity import ParityBatch, ValueDifference, pattern_of
from src.models import utcnow
from src.shadow.diff import ABSENT, REDACTED, json_differences, redact
from src.shadow.volatile import volatile_fields

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"


def paths(found: list[ValueDifference]) -> list[str]:
    return [difference.path for difference in found]


def test_equal_answers_have_no_difference() -> None:
    body = {"jobs": [{"id": "a", "name": "x"}], "total": 1}
    assert json_differences(body, {"total": 1, "jobs": [{"name": "x", "id": "a"}]}, frozenset()) == []


def test_a_changed_value_is_reported_at_its_json_path_with_both_values() -> None:
    found = json_differences({"jobs": [{"name": "x"}, {"name": "y"}]}, {"jobs": [{"name": "x"}, {"name": "Y"}]},
                             frozenset())
    assert found == [ValueDifference("$.jobs[1].name", "y", "Y")]


def test_a_key_on_one_side_only_is_a_difference() -> None:
    assert json_differences({"a": 1}, {"a": 1, "b": 2}, frozenset()) == [ValueDifference("$.b", ABSENT, 2)]


def test_lists_of_different_lengths_report_their_lengths() -> None:
    assert paths(json_differences({"items": [1, 2]}, {"items": [1]}, frozenset())) == ["$.items.length"]


def test_a_number_and_its_string_differ() -> None:
    assert paths(json_differences({"count": 1}, {"count": "1"}, frozenset())) == ["$.count"]


def test_declared_volatile_paths_are_ignored_on_their_route_only() -> None:
    legacy = {"status": "healthy", "timestamp": "2026-12-04T10:00:00.000Z", "scheduler_running": True}
    v2 = {"status": "healthy", "timestamp": "2026-12-04T10:00:00.004Z", "scheduler_running": False}
    assert json_differences(legacy, v2, volatile_fields("GET /api/health")) == []
    assert json_differences(legacy, v2, volatile_fields("HEAD /api/health")) == []
    assert paths(json_differences(legacy, v2, volatile_fields("GET /api/jobs"))) == ["$.scheduler_running",
                                                                                    "$.timestamp"]


def test_secrets_never_reach_a_sample() -> None:
    found = json_differences(
        {"slack_settings": {"webhook_url": "https://hooks.slack.com/services/T/B/secret", "channel": "#a"},
         "access_token": JWT, "note": JWT},
        {"slack_settings": {"webhook_url": "https://hooks.slack.com/services/T/B/other", "channel": "#b"},
         "access_token": JWT + "x", "note": "plain"},
        frozenset())
    values = {difference.path: (difference.legacy, difference.v2) for difference in found}
    assert values["$.slack_settings.webhook_url"] == (REDACTED, REDACTED)
    assert values["$.access_token"] == (REDACTED, REDACTED)
    assert values["$.note"] == (REDACTED, "plain")
    assert values["$.slack_settings.channel"] == ("#a", "#b")


def test_redaction_reaches_into_nested_values() -> None:
    assert redact({"user": {"password_hash": "x", "name": "n"}, "items": [{"token": "t"}]}) == {
        "user": {"password_hash": REDACTED, "name": "n"}, "items": [{"token": REDACTED}]}


def test_one_difference_in_different_rows_is_one_distinct_difference() -> None:
    batch = ParityBatch(sample_limit=2)
    for index in range(3):
        batch.add("GET /api/jobs", "mismatched", utcnow(), [ValueDifference(f"$.jobs[{index}].name", "a", "b")])
    [(key, kept)] = batch.differences.items()
    assert kept.paths == [pattern_of("$.jobs[0].name")] == ["$.jobs[*].name"]
    assert (kept.count, len(kept.samples)) == (3, 2)

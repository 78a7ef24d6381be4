"""Per-field job rules of contract 7.1 (shared with bulk upload)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session

from src.config import Settings
from src.core import job_fields as fields
from src.core.errors import Invalid
from src.schemas.contract_errors import Refused, field_value
from src.schemas.job_bodies import JobCreateRequest
from tests.conftest import Factory

# 2025-12-22 23:30 UTC is already 2025-12-23 in Tokyo.
LATE_UTC = datetime(2025, 12, 22, 23, 30, tzinfo=UTC)


def body_of(call: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(Invalid) as raised:
        call(*args, **kwargs)
    return raised.value.body()


def rule(key: str, value: Any) -> Any:
    """`value` checked by the job body's rule for `key` (src/schemas/job_bodies.py)."""
    return field_value(JobCreateRequest, key, value)


def refusal_of(key: str, value: Any) -> dict[str, Any]:
    with pytest.raises(Refused) as raised:
        rule(key, value)
    return raised.value.body


# --- name --------------------------------------------------------------------------------------


def test_parse_name_trims() -> None:
    assert rule("name", "  Nightly  ") == "Nightly"


@pytest.mark.parametrize("value", ["", "   ", None, 42, ["x"]])
def test_parse_name_rejects_blank_and_non_strings(value: Any) -> None:
    assert refusal_of("name", value) == {"error": "Job name cannot be empty"}


def test_job_name_taken_is_exact_and_can_exclude_a_job(db: Session, factory: Factory) -> None:
    job = factory.job(name="Nightly")
    assert fields.job_name_taken(db, "Nightly")
    assert not fields.job_name_taken(db, "nightly")
    assert not fields.job_name_taken(db, "Nightly", exclude_id=job.id)


def test_duplicate_name_messages_for_create_and_update() -> None:
    assert fields.duplicate_name_error("x").body() == {
        "error": "Duplicate job name",
        "message": 'A job with the name "x" already exists. Please use a unique name.',
    }
    assert (
        fields.duplicate_name_error("x", on_update=True).body()["message"] == 'A job with the name "x" already exists.'
    )


# --- targets -----------------------------------------------------------------------------------


def test_shorthand_target_url_becomes_github_fields(settings: Settings) -> None:
    target = fields.normalize_target("org/repo/wf.yml", "other", "r", "w", settings)
    assert target == fields.TargetFields(None, "org", "repo", "wf.yml")


def test_a_dotted_first_part_is_not_shorthand(settings: Settings) -> None:
    assert body_of(fields.normalize_target, "example.com/a/b", None, None, None, settings) == {
        "error": "Invalid target_url", "message": "target_url must include scheme (http:// or https://).",
    }


def test_webhook_url_keeps_a_blank_owner(settings: Settings) -> None:
    target = fields.normalize_target("https://x.example", None, "repo", "wf", settings)
    assert target == fields.TargetFields("https://x.example", None, "repo", "wf")


def test_github_fields_without_owner_get_the_default_owner(settings: Settings) -> None:
    target = fields.normalize_target(None, None, "repo", "wf", settings)
    assert target == fields.TargetFields(None, "default-org", "repo", "wf")
    assert target.is_complete


def test_incomplete_github_fields_are_not_a_target(settings: Settings) -> None:
    assert not fields.normalize_target(None, "org", "repo", None, settings).is_complete


def test_optional_text_trims_and_rejects_non_strings() -> None:
    assert rule("github_repo", "  a ") == "a"
    assert rule("github_repo", "   ") is None
    assert refusal_of("github_repo", 3) == {
        "error": "Invalid payload", "message": '"github_repo" must be a string.'}


# --- category, metadata, emails ----------------------------------------------------------------


@pytest.mark.parametrize("raw", [None, "", "  ", "general", "General"])
def test_blank_or_general_category_is_general(db: Session, raw: Any) -> None:
    assert fields.resolve_category_or_error(db, raw) == "general"


def test_category_resolves_by_slug_or_name_even_when_disabled(db: Session, factory: Factory) -> None:
    factory.category("Chaos Drills", slug="chaos-x", is_active=False)
    assert fields.resolve_category_or_error(db, "chaos drills") == "chaos-x"
    assert fields.resolve_category_or_error(db, "Chaos-X") == "chaos-x"


@pytest.mark.parametrize("raw", ["nope", 5])
def test_unknown_category_is_invalid(db: Session, raw: Any) -> None:
    assert body_of(fields.resolve_category_or_error, db, raw) == {
        "error": "Invalid category",
        "message": "Unknown category. Create it in Settings → Categories first, or choose General.",
    }


def test_metadata_object_or_null() -> None:
    assert rule("metadata", None) == {}
    assert rule("metadata", {"a": 1}) == {"a": 1}


@pytest.mark.parametrize("value", ["{}", [1], 1, True])
def test_metadata_must_be_an_object(value: Any) -> None:
    assert refusal_of("metadata", value) == {
        "error": "Invalid metadata", "message": "metadata must be a JSON object"}


def test_notification_emails_from_list_or_comma_separated_text() -> None:
    assert rule("notification_emails", None) == []
    assert rule("notification_emails", " a@x, ,b@x,a@x ") == ["a@x", "b@x", "a@x"]
    assert rule("notification_emails", ["  a@x", "", "not-an-email"]) == ["a@x", "not-an-email"]


@pytest.mark.parametrize("value", [5, {"a": "b"}, ["a@x", 3]])
def test_notification_emails_must_be_a_list_of_strings(value: Any) -> None:
    assert refusal_of("notification_emails", value) == {
        "error": "Invalid notification_emails", "message": "notification_emails must be a list"}


def test_emails_round_trip_through_storage_text() -> None:
    assert fields.emails_from_text(fields.emails_to_text(["a@x", "b@x"])) == ["a@x", "b@x"]
    assert fields.emails_to_text([]) is None


# --- end date ----------------------------------------------------------------------------------


def test_parse_end_date() -> None:
    assert fields.parse_end_date(" 2030-03-31 ") == date(2030, 3, 31)
    assert fields.parse_end_date("") is None
    assert fields.parse_end_date(None) is None


@pytest.mark.parametrize("value", ["2030-02-30", "20300331", "2030-3-31", "31/03/2030", 20300331, ["2030-03-31"]])
def test_parse_end_date_rejects_other_forms(value: Any) -> None:
    assert body_of(fields.parse_end_date, value) == {
        "error": "Invalid end_date", "message": "Invalid end_date. Use YYYY-MM-DD."}


def test_end_date_today_in_the_scheduler_timezone_is_allowed(settings: Settings) -> None:
    fields.check_end_date_not_past(date(2025, 12, 23), settings, now=LATE_UTC)


def test_end_date_before_today_in_the_scheduler_timezone_is_invalid(settings: Settings) -> None:
    assert body_of(fields.check_end_date_not_past, date(2025, 12, 22), settings, now=LATE_UTC) == {
        "error": "Invalid end_date", "message": "end_date must be today or in the future (JST)."}


def test_is_expired(settings: Settings) -> None:
    assert fields.is_expired(date(2025, 12, 22), settings, now=LATE_UTC)
    assert not fields.is_expired(date(2025, 12, 23), settings, now=LATE_UTC)
    assert not fields.is_expired(None, settings, now=LATE_UTC)


# --- PIC team ----------------------------------------------------------------------------------


def test_pic_team_input_prefers_a_non_blank_pic_team() -> None:
    assert fields.pic_team_input({"pic_team": "a", "pic_team_slug": "b"}) == "a"
    assert fields.pic_team_input({"pic_team": " ", "pic_team_slug": "b"}) == "b"
    assert fields.pic_team_input({"pic_team_slug": "b"}) == "b"


def test_active_team_resolves_by_slug_or_display_name(db: Session, factory: Factory) -> None:
    factory.team("Platform Ops", slug="platform")
    assert fields.resolve_active_team(db, "platform") == "platform"
    assert fields.resolve_active_team(db, "platform ops") == "platform"


@pytest.mark.parametrize("raw", [None, "", "  "])
def test_missing_team_is_required(db: Session, raw: Any) -> None:
    assert body_of(fields.resolve_active_team, db, raw) == {
        "error": "Invalid PIC team", "message": "PIC team is required. Create one in Settings → PIC Teams."}


def test_unknown_team_reports_its_slugified_value(db: Session) -> None:
    with pytest.raises(fields.InvalidTeam) as raised:
        fields.resolve_active_team(db, "Ghost Team")
    assert raised.value.body() == {
        "error": "Invalid PIC team", "message": "Unknown PIC team. Create it in Settings → PIC Teams first."}
    assert (raised.value.raw, raised.value.slug) == ("Ghost Team", "ghost-team")


def test_disabled_team_is_invalid(db: Session, factory: Factory) -> None:
    factory.team("Sleepers", is_active=False)
    with pytest.raises(fields.InvalidTeam) as raised:
        fields.resolve_active_team(db, "Sleepers")
    assert raised.value.body() == {
        "error": "Invalid PIC team",
        "message": "PIC team is disabled. Enable it in Settings → PIC Teams or choose another.",
    }
    assert raised.value.slug == "sleepers"


def test_missing_target_error_body() -> None:
    assert fields.missing_target_error().body() == {
        "error": "Missing target configuration",
        "message": 'Please provide either "target_url" or GitHub Actions configuration '
                   "(github_owner, github_repo, github_workflow_name)",
    }

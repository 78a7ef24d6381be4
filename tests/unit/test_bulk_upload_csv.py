"""Pure rules of the bulk CSV importer (contract 7.7): parsing, normalization, row checks."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

import pytest

from src.config import Settings
from src.core.bulk_upload import (
    CsvTable,
    HeaderIndex,
    Lookups,
    RowContext,
    RowRejected,
    ValidRow,
    check_row,
    check_rows,
    decode_csv,
    read_csv,
)
from src.core.errors import Invalid
from src.core.targets import DISPATCH_URL_FORMAT_MESSAGE

TODAY = date(2030, 6, 15)
SPA_HEADER = "Job Name,Repo,Workflow Name,Branch,Cron schedule (JST),Status,End Date,PIC Team,Request Body"


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {"DEFAULT_GITHUB_OWNER": "env-org", "SCHEDULER_TIMEZONE": "Asia/Tokyo"}
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]  # pydantic-settings' _env_file is no declared field


def lookups(taken: tuple[str, ...] = ()) -> Lookups:
    return Lookups.build(
        categories=[("regression", "Regression"), ("smoke", "Smoke Tests"), ("old", "Old")],
        teams=[("team-a", "Team A", True), ("team-b", "Platform Crew", True), ("retired", "Retired", False)],
        taken_names=taken,
    )


def context(*, default_owner: str | None = None, taken: tuple[str, ...] = (), **setting: Any) -> RowContext:
    return RowContext(lookups=lookups(taken), settings=settings(**setting),
                      default_github_owner=default_owner, today=TODAY)


def row(**cells: str) -> dict[str, str]:
    """A field → value mapping as HeaderIndex.values returns it, with valid defaults."""
    values = {
        "name": "nightly", "cron": "0 2 * * *", "status": "", "target_url": "", "owner": "",
        "repo": "api", "workflow": "run.yml", "dispatch_url": "", "category": "",
        "end_date": "2030-12-31", "pic_team": "team-a", "branch": "", "request_body": "",
    }
    values.update(cells)
    return values


def check(values: dict[str, str], ctx: RowContext | None = None, accepted: set[str] | None = None) -> ValidRow:
    return check_row(values, 2, ctx or context(), accepted or set())


def rejected(values: dict[str, str], ctx: RowContext | None = None,
             accepted: set[str] | None = None) -> dict[str, Any]:
    with pytest.raises(RowRejected) as caught:
        check(values, ctx, accepted)
    return caught.value.error


# --- parsing and normalization -------------------------------------------------------------


def test_decode_drops_bom_and_replaces_undecodable_bytes() -> None:
    assert decode_csv(b"\xef\xbb\xbfname\n\xff\xfeok") == "name\n\ufffd\ufffdok"


def test_read_csv_of_no_bytes_is_empty_csv_error() -> None:
    with pytest.raises(Invalid) as caught:
        read_csv(b"")
    assert caught.value.body() == {"error": "Invalid CSV", "message": "CSV is empty."}


def test_read_csv_of_only_a_bom_is_empty_csv_error() -> None:
    with pytest.raises(Invalid) as caught:
        read_csv(b"\xef\xbb\xbf")
    assert caught.value.body() == {"error": "Invalid CSV", "message": "CSV is empty."}


def test_header_of_blank_names_is_unusable() -> None:
    with pytest.raises(Invalid) as caught:
        read_csv(b" , ,\nx,y,z\n")
    assert caught.value.body() == {"error": "Invalid CSV", "message": "CSV header row has no usable column names."}


def test_blank_header_columns_are_dropped_and_counted() -> None:
    table = read_csv(b"Name, ,Cron,\nn1,junk,* * * * *,junk\n")
    assert table.header == ["Name", "Cron"]
    assert table.rows == [["n1", "* * * * *"]]
    assert asdict(table.stats) == {
        "original_column_count": 4, "original_row_count": 1,
        "removed_column_count": 2, "removed_empty_row_count": 0,
    }


def test_short_rows_are_padded_and_long_rows_cut() -> None:
    table = read_csv(b"a,b,c\n1\n1,2,3,4,5\n")
    assert table.rows == [["1", "", ""], ["1", "2", "3"]]


def test_rows_blank_in_kept_columns_are_dropped_and_counted() -> None:
    table = read_csv(b"a,,b\n , x ,\n\n1,,2\n,,\n")
    assert table.rows == [["1", "2"]]
    assert table.stats.original_row_count == 4
    assert table.stats.removed_empty_row_count == 3


def test_row_numbers_count_normalized_rows_from_header_as_one() -> None:
    assert [CsvTable.row_number(index) for index in range(3)] == [2, 3, 4]


def test_cells_are_trimmed_and_quoted_fields_keep_commas_and_newlines() -> None:
    table = read_csv(b'name,body\n  spaced  ,"{""a"": ""x,\ny""}"\n')
    assert table.rows == [["spaced", '{"a": "x,\ny"}']]


def test_header_only_csv_has_no_rows() -> None:
    table = read_csv(b"Job Name,Cron\n")
    assert table.rows == []
    assert table.stats.original_row_count == 0


# --- header aliases ------------------------------------------------------------------------


def test_spa_template_header_maps_every_field() -> None:
    table = read_csv(
        (SPA_HEADER + '\nn,org/api,run.yml,main,0 2 * * *,Active,2030-12-31,Team A,"{""k"": 1}"\n').encode()
    )
    values = HeaderIndex(table.header).values(table.rows[0])
    assert values == {
        "name": "n", "cron": "0 2 * * *", "status": "Active", "target_url": "", "owner": "",
        "repo": "org/api", "workflow": "run.yml", "dispatch_url": "", "category": "",
        "end_date": "2030-12-31", "pic_team": "Team A", "branch": "main", "request_body": '{"k": 1}',
    }


def test_aliases_match_case_and_whitespace_insensitively() -> None:
    header = HeaderIndex(["  CRON_EXPRESSION ", "Github Dispatch URL", "PIC_TEAM_SLUG", "Ref", "METADATA"])
    values = header.values(["* * * * *", "o/r/w", "team-a", "dev", "{}"])
    assert (values["cron"], values["dispatch_url"], values["pic_team"], values["branch"],
            values["request_body"]) == ("* * * * *", "o/r/w", "team-a", "dev", "{}")


def test_first_alias_with_a_value_wins() -> None:
    header = HeaderIndex(["name", "job name"])
    assert header.value(["plain", "preferred"], "name") == "preferred"
    assert header.value(["plain", ""], "name") == "plain"


def test_duplicate_header_reads_right_most_column() -> None:
    header = HeaderIndex(["Name", "name"])
    assert header.value(["left", "right"], "name") == "right"
    assert header.value(["left", ""], "name") == ""


# --- per-row checks in order ---------------------------------------------------------------


def test_dispatch_url_becomes_github_config_and_clears_target_url() -> None:
    valid = check(row(dispatch_url="https://github.com/acme/web/actions/workflows/ci.yml",
                      target_url="https://hook.example.com", repo="", workflow=""))
    assert (valid.target_url, valid.github_owner, valid.github_repo, valid.github_workflow_name) == (
        None, "acme", "web", "ci.yml")


def test_rule_1_bad_dispatch_url() -> None:
    assert rejected(row(dispatch_url="https://example.com/nope", category="missing")) == {
        "row": 2, "job_name": "nightly", "error": "Invalid dispatch_url", "message": DISPATCH_URL_FORMAT_MESSAGE,
    }


def test_rule_2_target_url_shorthand_becomes_github_config() -> None:
    valid = check(row(target_url="acme/web/deploy.yml", repo="", workflow="", owner="ignored"))
    assert (valid.target_url, valid.github_owner, valid.github_repo, valid.github_workflow_name) == (
        None, "acme", "web", "deploy.yml")


def test_rule_3_target_url_without_scheme() -> None:
    assert rejected(row(target_url="hook.example.com/a", category="missing")) == {
        "row": 2, "job_name": "nightly", "error": "Invalid target_url",
        "message": "target_url must include scheme (http:// or https://).",
    }


def test_rule_4_unknown_category() -> None:
    assert rejected(row(category="Nope", end_date="bad")) == {
        "row": 2, "job_name": "nightly", "error": "Invalid category",
        "message": "Unknown category. Create it in Settings → Categories first, or choose General.",
    }


@pytest.mark.parametrize(("raw", "slug"), [
    ("", "general"), ("General", "general"), ("Smoke Tests", "smoke"), ("REGRESSION", "regression"),
    ("smoke tests", "smoke"), ("old", "old"),
])
def test_category_resolves_by_slug_or_name_blank_is_general(raw: str, slug: str) -> None:
    assert check(row(category=raw)).category == slug


def test_rule_5_unparseable_end_date() -> None:
    assert rejected(row(end_date="31/12/2030", pic_team="")) == {
        "row": 2, "job_name": "nightly", "error": "Invalid end_date", "message": "Invalid end_date. Use YYYY-MM-DD.",
    }


def test_rule_6_missing_end_date() -> None:
    assert rejected(row(end_date="", pic_team="")) == {
        "row": 2, "job_name": "nightly", "error": "Missing required fields",
        "message": "end_date (YYYY-MM-DD) is required.",
    }


def test_rule_7_end_date_in_the_past() -> None:
    assert rejected(row(end_date="2030-06-14", pic_team="")) == {
        "row": 2, "job_name": "nightly", "error": "Invalid end_date",
        "message": "end_date must be today or in the future (JST).",
    }


def test_end_date_today_is_accepted() -> None:
    assert check(row(end_date="2030-06-15")).end_date == TODAY


def test_rule_8_missing_pic_team_carries_null_team_keys() -> None:
    assert rejected(row(pic_team="", name="", cron="")) == {
        "row": 2, "error": "Invalid PIC team", "message": "PIC team is required. Create one in Settings → PIC Teams.",
        "pic_team": None, "pic_team_slug": None,
    }


def test_rule_8_unknown_pic_team_carries_raw_and_slugified_value() -> None:
    assert rejected(row(pic_team="Ghost Team")) == {
        "row": 2, "job_name": "nightly", "error": "Invalid PIC team",
        "message": "Unknown PIC team. Create it in Settings → PIC Teams first.",
        "pic_team": "Ghost Team", "pic_team_slug": "ghost-team",
    }


def test_rule_8_disabled_pic_team_carries_its_slug() -> None:
    assert rejected(row(pic_team="Retired")) == {
        "row": 2, "job_name": "nightly", "error": "Invalid PIC team",
        "message": "PIC team is disabled. Enable it in Settings → PIC Teams or choose another.",
        "pic_team": "Retired", "pic_team_slug": "retired",
    }


def test_pic_team_resolves_by_display_name() -> None:
    assert check(row(pic_team="platform crew")).pic_team == "team-b"


@pytest.mark.parametrize("cells", [{"name": ""}, {"cron": ""}])
def test_rule_9_name_and_cron_required_without_job_name(cells: dict[str, str]) -> None:
    assert rejected(row(**cells, request_body="[")) == {
        "row": 2, "error": "Missing required fields", "message": "name and cron_expression are required.",
    }


def test_rule_10_name_of_earlier_accepted_row_has_no_message() -> None:
    assert rejected(row(cron="bad"), accepted={"nightly"}) == {
        "row": 2, "job_name": "nightly", "error": "Duplicate job name in CSV",
    }


def test_rule_11_name_of_existing_job() -> None:
    assert rejected(row(cron="bad"), context(taken=("nightly",))) == {
        "row": 2, "job_name": "nightly", "error": "Duplicate job name",
        "message": 'A job with the name "nightly" already exists.',
    }


def test_rule_12_invalid_cron() -> None:
    assert rejected(row(cron="0 2 * *", request_body="[")) == {
        "row": 2, "job_name": "nightly", "error": "Invalid cron expression",
        "message": "Cron expression must have exactly 5 fields (minute hour day month day-of-week).",
    }


def test_rule_13_request_body_not_json() -> None:
    error = rejected(row(request_body="{oops", repo="", workflow=""))
    assert error["error"] == "Invalid JSON in Request Body"
    assert error["message"].startswith("Expecting property name")


def test_rule_14_request_body_not_an_object() -> None:
    assert rejected(row(request_body="[1, 2]", repo="", workflow="")) == {
        "row": 2,
        "job_name": "nightly",
        "error": "Invalid Request Body",
        "message": "Request Body must be a JSON object.",
    }


def test_rule_15_no_owner_anywhere() -> None:
    assert rejected(row(), context(DEFAULT_GITHUB_OWNER="")) == {
        "row": 2, "job_name": "nightly", "error": "Missing GitHub owner",
        "message": 'Provide "github_owner" column or default_github_owner.',
    }


@pytest.mark.parametrize("cells", [{"repo": "", "workflow": ""}, {"workflow": ""}, {"repo": ""}])
def test_rule_16_no_complete_target(cells: dict[str, str]) -> None:
    assert rejected(row(**cells)) == {
        "row": 2, "job_name": "nightly", "error": "Missing target configuration",
        "message": "Provide target_url or GitHub config (github_owner, github_repo, github_workflow_name).",
    }


# --- row mapping ---------------------------------------------------------------------------


def test_owner_in_repo_wins_over_owner_column() -> None:
    valid = check(row(repo="acme/api", owner="column-org"), context(default_owner="form-org"))
    assert (valid.github_owner, valid.github_repo) == ("acme", "api")


def test_owner_column_wins_over_form_default() -> None:
    assert check(row(owner="column-org"), context(default_owner="form-org")).github_owner == "column-org"


def test_form_default_owner_wins_over_setting() -> None:
    assert check(row(), context(default_owner="form-org")).github_owner == "form-org"


def test_setting_default_owner_is_last_resort() -> None:
    assert check(row()).github_owner == "env-org"


def test_webhook_row_stores_no_github_fields() -> None:
    valid = check(row(target_url="https://hook.example.com/x", owner="o", repo="r", workflow="w"))
    assert (valid.target_url, valid.github_owner, valid.github_repo, valid.github_workflow_name) == (
        "https://hook.example.com/x", None, None, None)


@pytest.mark.parametrize("word", ["disable", "Disabled", "INACTIVE", "false", "0", "no", "n", "off"])
def test_inactive_status_words(word: str) -> None:
    assert check(row(status=word)).is_active is False


@pytest.mark.parametrize("word", ["", "active", "enabled", "yes", "whatever"])
def test_other_status_words_are_active(word: str) -> None:
    assert check(row(status=word)).is_active is True


def test_branch_becomes_branch_details() -> None:
    assert check(row(branch="main", request_body='{"suite": "smoke"}')).metadata == {
        "suite": "smoke", "branchDetails": "main"}


def test_branch_details_in_request_body_wins_over_branch() -> None:
    assert check(row(branch="main", request_body='{"branchDetails": "dev"}')).metadata == {"branchDetails": "dev"}


def test_cron_is_stored_normalized() -> None:
    assert check(row(cron="0   2 * *   *")).cron_expression == "0 2 * * *"


def test_failed_row_does_not_block_a_later_row_with_its_name() -> None:
    table = read_csv(b"name,cron,end date,pic team,target url\n"
                     b"twin,bad,2030-12-31,team-a,https://h.example.com\n"
                     b"twin,* * * * *,2030-12-31,team-a,https://h.example.com\n"
                     b"twin,* * * * *,2030-12-31,team-a,https://h.example.com\n")
    accepted, errors = check_rows(table, context())
    assert [valid.row for valid in accepted] == [3]
    assert [(error["row"], error["error"]) for error in errors] == [
        (2, "Invalid cron expression"), (4, "Duplicate job name in CSV")]

"""Bulk CSV upload of jobs (contract 4.7, 7.7): parse, normalize, check each row, insert.

A row is read as the body of `POST /jobs`: each field it shares with that body is checked by the
job body model's rule (`JobCreateRequest`, the same wording), in 7.7's order; the CSV's own
checks (dispatch URL, presence, duplicates in the file, the Request Body column) stay here.
Categories, teams and existing job names are loaded once per upload (three queries) and resolved
in memory with the same rules as `resolve_category` / `find_team`, so a file of thousands of rows costs no per-row SQL.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from src.config import Settings
from src.core import job_fields as fields
from src.core.categories import GENERAL
from src.core.clock import local_today
from src.core.errors import Invalid, PayloadTooLarge, read_field, unstorable_value
from src.core.request_parsing import JsonTooDeep, is_storable_text, refuse_unstorable_text
from src.core.slugs import slugify
from src.core.targets import parse_dispatch_url
from src.models import Job, JobCategory, PicTeam, User, new_id, utcnow
from src.schemas.job_bodies import CATEGORY_MESSAGE, INVALID_CATEGORY, INVALID_END_DATE, JobCreateRequest

# Header aliases of 7.7, matched after trim + lower-case; per row the first alias with a
# non-blank value wins.
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("job name", "name"),
    "cron": ("cron schedule (jst)", "cron expression", "cron", "cron_expression"),
    "status": ("status", "is_active", "active"),
    "target_url": ("target url", "target_url", "url"),
    "owner": ("github owner", "owner", "github_owner"),
    "repo": ("repo", "github repo", "github_repo"),
    "workflow": ("workflow name", "github workflow name", "github_workflow_name"),
    "dispatch_url": ("dispatch url", "dispatch_url", "github dispatch url", "github_dispatch_url"),
    "category": ("category", "job category", "job_category"),
    "end_date": ("end date", "end_date"),
    "pic_team": ("pic team", "pic_team", "pic team slug", "pic_team_slug"),
    "branch": ("branch", "ref"),
    "request_body": ("request body", "request_body", "metadata"),
}
INACTIVE_WORDS = frozenset({"disable", "disabled", "inactive", "false", "0", "no", "n", "off"})

MISSING_FILE = "Missing file"
INVALID_CSV = "Invalid CSV"
MISSING_FIELDS = "Missing required fields"
END_DATE_REQUIRED_MESSAGE = "end_date (YYYY-MM-DD) is required."
NAME_CRON_REQUIRED_MESSAGE = "name and cron_expression are required."
DUPLICATE_IN_CSV = "Duplicate job name in CSV"
# Above this many distinct names, one query for every job name beats an IN list with thousands
# of bind parameters (SQLite and PostgreSQL both cap the parameter count).
_IN_LIST_LIMIT = 1000


PROCESSED_MESSAGE = "Bulk upload processed"
VALIDATED_MESSAGE = "CSV validated successfully"

# One skipped row: `{row, job_name?, error, message?, pic_team?, pic_team_slug?}`, only the keys
# given (the SPA tells "no name read" / "no message" / "not a team error" apart by key presence).
RowError = dict[str, Any]
# A job inserted (`{id, name, is_active}`) or, by a dry run, found valid
# (`{name, is_active, cron_expression, end_date, pic_team}`).
ImportedJob = dict[str, Any]


@dataclass(frozen=True)
class TableStats:
    """What normalization (7.7 steps 1-4) removed from the uploaded table."""

    original_column_count: int
    original_row_count: int
    removed_column_count: int
    removed_empty_row_count: int


@dataclass(frozen=True)
class ImportResult:
    """4.7's result, the same for dry and real runs (`src.schemas.bulk_upload` renders it)."""

    message: str
    dry_run: bool
    stats: TableStats
    created_count: int
    error_count: int
    errors: list[RowError]
    jobs: list[ImportedJob]

    def error_keys(self) -> dict[str, Any]:
        """The result's keys added to the 4.7 400 envelope (its own message replaced)."""
        body = asdict(self)
        del body["message"]
        return body


# --- parsing and normalization (7.7 steps 1-5) ---------------------------------------------


@dataclass(frozen=True)
class CsvTable:
    """The normalized table: trimmed header names of kept columns, and the kept non-blank rows."""

    header: list[str]
    rows: list[list[str]]
    stats: TableStats

    @staticmethod
    def row_number(index: int) -> int:
        """Row number of `rows[index]` in errors: the header is row 1 (7.7 step 5)."""
        return index + 2


def decode_csv(content: bytes) -> str:
    """UTF-8 text; a leading BOM is dropped and undecodable bytes become U+FFFD."""
    return content.decode("utf-8-sig", errors="replace")


def read_csv(content: bytes) -> CsvTable:
    """Parse and normalize the upload, or 400 "Invalid CSV" for an empty file or unusable header."""
    try:
        records = list(csv.reader(io.StringIO(decode_csv(content), newline="")))
    except csv.Error as exc:
        raise Invalid(INVALID_CSV, f"CSV could not be parsed: {exc}") from None
    if not records:
        raise Invalid(INVALID_CSV, "CSV is empty.")
    return normalize(records)


def normalize(records: list[list[str]]) -> CsvTable:
    """7.7 steps 1-4: drop blank-header columns, pad/cut rows to the header, drop blank rows."""
    header_row = [cell.strip() for cell in records[0]]
    kept = [index for index, name in enumerate(header_row) if name]
    if not kept:
        raise Invalid(INVALID_CSV, "CSV header row has no usable column names.")
    width = len(header_row)
    rows: list[list[str]] = []
    for record in records[1:]:
        cells = [record[index].strip() if index < len(record) else "" for index in kept]
        if any(cells):
            rows.append(cells)
    stats = TableStats(
        original_column_count=width,
        original_row_count=len(records) - 1,
        removed_column_count=width - len(kept),
        removed_empty_row_count=len(records) - 1 - len(rows),
    )
    return CsvTable(header=[header_row[index] for index in kept], rows=rows, stats=stats)


class HeaderIndex:
    """Reads a field of a row through the header aliases."""

    def __init__(self, header: list[str]) -> None:
        # Later columns overwrite earlier ones: a repeated header reads its right-most column.
        positions = {name.strip().lower(): index for index, name in enumerate(header)}
        self._columns = {
            key: [positions[alias] for alias in aliases if alias in positions]
            for key, aliases in FIELD_ALIASES.items()
        }

    def value(self, row: list[str], key: str) -> str:
        """The first non-blank value among the field's aliases, or "" (cells are trimmed)."""
        for index in self._columns[key]:
            if row[index]:
                return row[index]
        return ""

    def values(self, row: list[str]) -> dict[str, str]:
        return {key: self.value(row, key) for key in FIELD_ALIASES}


# --- lookups loaded once per upload --------------------------------------------------------


@dataclass(frozen=True)
class TeamRef:
    slug: str
    is_active: bool


@dataclass
class Lookups:
    """Categories, PIC teams and taken job names, resolved in memory like 7.4 does in SQL."""

    category_slugs: set[str] = field(default_factory=set)
    category_names: dict[str, str] = field(default_factory=dict)  # lower-cased name → slug
    teams_by_slug: dict[str, TeamRef] = field(default_factory=dict)
    teams_by_name: dict[str, TeamRef] = field(default_factory=dict)  # lower-cased name → team
    taken_names: set[str] = field(default_factory=set)

    @classmethod
    def build(
        cls,
        categories: Iterable[tuple[str, str]],
        teams: Iterable[tuple[str, str, bool]],
        taken_names: Iterable[str],
    ) -> Lookups:
        """From (slug, name) categories, (slug, name, is_active) teams and existing job names."""
        lookups = cls(taken_names=set(taken_names))
        for slug, name in categories:
            lookups.category_slugs.add(slug)
            lookups.category_names.setdefault(name.strip().lower(), slug)
        for slug, name, is_active in teams:
            team = TeamRef(slug, bool(is_active))
            lookups.teams_by_slug[slug] = team
            lookups.teams_by_name.setdefault(name.strip().lower(), team)
        return lookups

    def category_slug(self, raw: str) -> str:
        """7.1 rule 7 / 7.4: blank → general; slug, then name; `general` always; else 400."""
        if not raw.strip():
            return GENERAL
        slug = slugify(raw)
        if slug in self.category_slugs:
            return slug
        by_name = self.category_names.get(raw.strip().lower())
        if by_name is not None:
            return by_name
        if slug == GENERAL:
            return GENERAL
        raise Invalid(INVALID_CATEGORY, CATEGORY_MESSAGE)

    def active_team_slug(self, raw: str) -> str:
        """7.1 rules 13-15 (same errors as `job_fields.resolve_active_team`)."""
        if not raw.strip():
            raise fields.InvalidTeam(fields.TEAM_REQUIRED_MESSAGE, None, None)
        slug = slugify(raw)
        team = self.teams_by_slug.get(slug) or self.teams_by_name.get(raw.strip().lower())
        if team is None:
            raise fields.InvalidTeam(fields.TEAM_UNKNOWN_MESSAGE, raw.strip(), slug or None)
        if not team.is_active:
            raise fields.InvalidTeam(fields.TEAM_DISABLED_MESSAGE, raw.strip(), team.slug)
        return team.slug


def load_lookups(session: Session, names: set[str]) -> Lookups:
    """Three queries whatever the file size: categories, teams, and which names are taken."""
    categories = session.execute(select(JobCategory.slug, JobCategory.name))
    teams = session.execute(select(PicTeam.slug, PicTeam.name, PicTeam.is_active))
    taken: Iterable[str] = ()
    if names:
        query = select(Job.name)
        if len(names) <= _IN_LIST_LIMIT:
            query = query.where(Job.name.in_(sorted(names)))
        taken = session.scalars(query)
    return Lookups.build(categories, teams, (name for name in taken if name in names))


# --- per-row checks (7.7, in order) --------------------------------------------------------


@dataclass(frozen=True)
class RowContext:
    """What every row is checked against."""

    lookups: Lookups
    settings: Settings
    default_github_owner: str | None
    today: date


@dataclass(frozen=True)
class ValidRow:
    """A row that passed every check, as the column values of the job it creates."""

    row: int
    name: str
    cron_expression: str
    is_active: bool
    target_url: str | None
    github_owner: str | None
    github_repo: str | None
    github_workflow_name: str | None
    metadata: dict[str, Any]
    category: str
    end_date: date
    end_date_text: str
    pic_team: str


class RowRejected(Exception):
    """The first failed check of a row, as its error object."""

    def __init__(self, error: RowError) -> None:
        super().__init__(error["error"])
        self.error = error


def _reject(row: int, name: str, error: str, message: str | None, **extra: Any) -> RowRejected:
    keys: dict[str, Any] = {"row": row}
    if name:
        keys["job_name"] = name
    keys["error"] = error
    if message is not None:
        keys["message"] = message
    keys.update(extra)
    return RowRejected(keys)


def _from_invalid(row: int, name: str, problem: Invalid) -> RowRejected:
    if isinstance(problem, fields.InvalidTeam):
        return _reject(row, name, problem.error, problem.message,
                       pic_team=problem.raw, pic_team_slug=problem.slug)
    return _reject(row, name, problem.error, problem.message)


def _owner_and_repo(repo: str, owner_column: str, context: RowContext) -> tuple[str | None, str]:
    """Row mapping: `owner/repo` in Repo wins, then the owner column, the form, the setting."""
    parts = repo.split("/")
    if len(parts) == 2 and all(part.strip() for part in parts):
        return parts[0].strip(), parts[1].strip()
    owner = owner_column or context.default_github_owner or context.settings.DEFAULT_GITHUB_OWNER.strip()
    return owner or None, repo


def _metadata(request_body: str, branch: str) -> dict[str, Any]:
    """Rules 13-14, then Branch → `branchDetails` unless the body already has that key."""
    metadata: dict[str, Any] = {}
    if request_body:
        try:
            parsed = json.loads(request_body)
            refuse_unstorable_text(parsed)  # depth and escapes such as "\\ud800", as for JSON bodies
        except (RecursionError, JsonTooDeep):
            raise Invalid("Invalid JSON in Request Body", JsonTooDeep().message) from None
        except ValueError as exc:
            raise Invalid("Invalid JSON in Request Body", str(exc)) from None
        if not isinstance(parsed, dict):
            raise Invalid("Invalid Request Body", "Request Body must be a JSON object.")
        metadata = parsed
    if branch and "branchDetails" not in metadata:
        metadata["branchDetails"] = branch
    return metadata


def check_row(
    values: dict[str, str], row: int, context: RowContext, accepted_names: set[str]
) -> ValidRow:
    """Checks 1-16 of 7.7 in order; the first failure raises `RowRejected`."""
    name = values["name"]
    # The row as a POST /jobs body (cells are trimmed; blank is absent), read by that body's rules.
    body = {
        "name": name, "cron_expression": values["cron"], "target_url": values["target_url"],
        "github_owner": values["owner"], "github_repo": values["repo"],
        "github_workflow_name": values["workflow"], "category": values["category"], "end_date": values["end_date"],
    }

    def read(key: str) -> Any:
        return read_field(JobCreateRequest, body, key)

    try:
        # Text no database stores (NUL) is refused alike on SQLite and PostgreSQL, before any check.
        if not all(is_storable_text(value) for value in values.values()):
            name = name if is_storable_text(name) else ""
            raise unstorable_value()
        # 1-3: dispatch URL, else target URL shorthand, else a webhook URL with a scheme.
        from_url = bool(values["dispatch_url"])
        if from_url:
            github = parse_dispatch_url(values["dispatch_url"])
            target = fields.TargetFields(None, github.owner, github.repo, github.workflow)
        else:
            target = fields.split_target_url(
                read("target_url"), read("github_owner"), read("github_repo"), read("github_workflow_name"),
            )
            from_url = target.target_url is None and bool(values["target_url"])
        category = context.lookups.category_slug(read("category") or "")  # 4
        end_date = read("end_date")  # 5
        if end_date is None:  # 6
            raise Invalid(MISSING_FIELDS, END_DATE_REQUIRED_MESSAGE)
        if end_date < context.today:  # 7
            raise Invalid(INVALID_END_DATE, fields.END_DATE_PAST_MESSAGE)
        pic_team = context.lookups.active_team_slug(values["pic_team"])  # 8
    except Invalid as problem:
        raise _from_invalid(row, name, problem) from None

    if not name or not values["cron"]:  # 9
        raise _reject(row, "", MISSING_FIELDS, NAME_CRON_REQUIRED_MESSAGE)
    if name in accepted_names:  # 10
        raise _reject(row, name, DUPLICATE_IN_CSV, None)
    try:
        if name in context.lookups.taken_names:  # 11
            raise fields.duplicate_name_error(name, on_update=True)
        name = read("name")  # present (9), so the rule only trims, as POST /jobs does
        cron_expression = read("cron_expression")  # 12
        metadata = _metadata(values["request_body"], values["branch"])  # 13-14
    except Invalid as problem:
        raise _from_invalid(row, name, problem) from None

    owner, repo = target.github_owner, target.github_repo
    if target.target_url is None and not from_url and (repo or target.github_workflow_name):
        owner, repo = _owner_and_repo(repo or "", owner or "", context)
        if not owner:  # 15
            raise _reject(row, name, "Missing GitHub owner",
                          'Provide "github_owner" column or default_github_owner.')
    workflow = target.github_workflow_name
    if not (target.target_url or (owner and repo and workflow)):  # 16
        raise _reject(row, name, fields.MISSING_TARGET,
                      "Provide target_url or GitHub config (github_owner, github_repo, github_workflow_name).")

    webhook = target.target_url is not None
    return ValidRow(
        row=row,
        name=name,
        cron_expression=cron_expression,
        is_active=values["status"].lower() not in INACTIVE_WORDS,
        target_url=target.target_url,
        github_owner=None if webhook else owner,
        github_repo=None if webhook else repo,
        github_workflow_name=None if webhook else workflow,
        metadata=metadata,
        category=category,
        end_date=end_date,
        end_date_text=values["end_date"],
        pic_team=pic_team,
    )


def check_rows(table: CsvTable, context: RowContext) -> tuple[list[ValidRow], list[RowError]]:
    """Every normalized row through `check_row`; names of accepted rows block later twins."""
    header = HeaderIndex(table.header)
    accepted: list[ValidRow] = []
    accepted_names: set[str] = set()
    errors: list[RowError] = []
    for index, cells in enumerate(table.rows):
        try:
            valid = check_row(header.values(cells), table.row_number(index), context, accepted_names)
        except RowRejected as rejected:
            errors.append(rejected.error)
            continue
        accepted.append(valid)
        accepted_names.add(valid.name)
    return accepted, errors


# --- the operation -------------------------------------------------------------------------


def _check_upload(filename: str | None, content: bytes | None, settings: Settings) -> bytes:
    """Request-level checks of 4.7 before parsing: file part, file name, size (1.3)."""
    if filename is None or content is None:
        raise Invalid(MISSING_FILE, 'Upload a CSV file using form field "file".')
    if not filename.strip():
        raise Invalid(MISSING_FILE, "No file selected.")
    limit = settings.BULK_UPLOAD_MAX_BYTES
    if len(content) > limit:
        raise PayloadTooLarge("Payload too large", f"CSV file exceeds {limit} bytes.")
    return content


def _job_row(valid: ValidRow, actor: User, now: datetime) -> dict[str, Any]:
    """Column values of the job a valid row creates (email notifications off, 4.7)."""
    return {
        "id": new_id(),
        "name": valid.name,
        "cron_expression": valid.cron_expression,
        "target_url": valid.target_url,
        "github_owner": valid.github_owner,
        "github_repo": valid.github_repo,
        "github_workflow_name": valid.github_workflow_name,
        "job_metadata": json.dumps(valid.metadata),
        "category": valid.category,
        "end_date": valid.end_date,
        "pic_team": valid.pic_team,
        "enable_email_notifications": False,
        "notification_emails": None,
        "notify_on_success": False,
        "created_by": actor.id,
        "is_active": valid.is_active,
        "created_at": now,
        "updated_at": now,
    }


INSERT_REFUSED = "No jobs were created: the database refused a row. Try again."


def _insert_all_or_nothing(session: Session, rows: list[dict[str, Any]], accepted: list[ValidRow],
                           stats: TableStats) -> None:
    """Insert every row or none; a refusal the checks could not foresee becomes the 4.7 400.

    The usual cause is a concurrent request creating one of these names between validation and
    insert (the unique index decides); those rows are reported as "Duplicate job name".
    """
    try:
        with session.begin_nested():
            session.execute(insert(Job), rows)
    except IntegrityError:
        taken = set(session.scalars(select(Job.name).where(Job.name.in_([valid.name for valid in accepted]))))
        errors: list[RowError] = [
            {"row": valid.row, "job_name": valid.name, "error": fields.DUPLICATE_NAME,
             "message": fields.duplicate_name_error(valid.name, on_update=True).message}
            for valid in accepted if valid.name in taken
        ]
        result = ImportResult(message=PROCESSED_MESSAGE, dry_run=False, stats=stats, created_count=0,
                              error_count=len(errors), errors=errors, jobs=[])
        raise Invalid("Bulk upload failed", INSERT_REFUSED, **result.error_keys()) from None


def import_jobs(
    session: Session,
    settings: Settings,
    actor: User,
    *,
    filename: str | None,
    content: bytes | None,
    default_github_owner: str | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
) -> ImportResult:
    """4.7: validate every row; a real run inserts the valid ones (flushed, not committed).

    `filename`/`content` are None when the request had no `file` part. Raises the 400 of 4.7
    (result keys plus `error`) when errors exist and no row is valid.
    """
    table = read_csv(_check_upload(filename, content, settings))
    header = HeaderIndex(table.header)
    # A name no database stores is refused by its row's check; PostgreSQL would refuse the lookup.
    names = {name for cells in table.rows if (name := header.value(cells, "name")) and is_storable_text(name)}
    context = RowContext(
        lookups=load_lookups(session, names),
        settings=settings,
        default_github_owner=(default_github_owner or "").strip() or None,
        today=local_today(settings.scheduler_tz, now),
    )
    accepted, errors = check_rows(table, context)

    entries: list[ImportedJob]
    if dry_run:
        entries = [
            {"name": valid.name, "is_active": valid.is_active, "cron_expression": valid.cron_expression,
             "end_date": valid.end_date_text, "pic_team": valid.pic_team}
            for valid in accepted
        ]
    else:
        # No in-app notifications for bulk-created jobs (4.7); the scheduler picks the new rows
        # up from their updated_at like any other change.
        # One executemany instead of thousands of ORM objects, so the largest accepted file
        # inserts quickly. Rows carry their own ids and timestamps, so nothing needs reading back.
        created = utcnow()
        rows = [_job_row(valid, actor, created) for valid in accepted]
        if rows:
            _insert_all_or_nothing(session, rows, accepted, table.stats)
        entries = [{"id": row["id"], "name": row["name"], "is_active": row["is_active"]} for row in rows]

    result = ImportResult(
        message=VALIDATED_MESSAGE if dry_run else PROCESSED_MESSAGE,
        dry_run=dry_run,
        stats=table.stats,
        created_count=len(accepted),
        error_count=len(errors),
        errors=errors,
        jobs=entries,
    )
    if not accepted and errors:
        body = result.error_keys()
        if dry_run:
            raise Invalid("CSV validation failed", "CSV validation failed", **body)
        raise Invalid("Bulk upload failed", "No jobs were created. Fix CSV errors and try again.", **body)
    return result

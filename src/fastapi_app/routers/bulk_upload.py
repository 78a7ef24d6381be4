"""Bulk CSV upload of jobs (contract 4.7): read the multipart parts, call core, render."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.datastructures import UploadFile

from src.core.bulk_upload import import_jobs
from src.core.errors import PayloadTooLarge
from src.fastapi_app.dependencies import SessionDep, SettingsDep, WriterUser
from src.fastapi_app.openapi_docs import error_responses, form_body
from src.schemas.bulk_upload import BulkUploadForm, BulkUploadOptions, BulkUploadResponse

router = APIRouter(tags=["jobs"])
# Room for the multipart envelope and the small form fields around the CSV itself.
MULTIPART_OVERHEAD_BYTES = 64 * 1024


@router.post(
    "/jobs/bulk-upload",
    responses=error_responses(400, 401, 403, 413),
    openapi_extra=form_body(BulkUploadForm, "multipart/form-data"),
)
async def bulk_upload(
    request: Request, user: WriterUser, session: SessionDep, settings: SettingsDep
) -> BulkUploadResponse:
    limit = settings.BULK_UPLOAD_MAX_BYTES
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + MULTIPART_OVERHEAD_BYTES:
        raise PayloadTooLarge("Payload too large", f"CSV file exceeds {limit} bytes.")
    form = await request.form(max_files=4, max_fields=32)
    upload = form.get("file")
    filename: str | None = None
    content: bytes | None = None
    if isinstance(upload, UploadFile):
        filename = upload.filename or ""
        # One byte past the limit is enough for core to answer 413 without reading further.
        content = await upload.read(limit + 1)
    options = BulkUploadOptions.from_form(form)
    result = await session.run_sync(
        lambda s: import_jobs(
            s,
            settings,
            user,
            filename=filename,
            content=content,
            default_github_owner=options.default_github_owner,
            dry_run=options.dry_run,
        )
    )
    return BulkUploadResponse.of(result)

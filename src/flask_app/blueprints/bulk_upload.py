"""Bulk CSV upload of jobs (contract 4.7): read the multipart parts, call core, render."""

from __future__ import annotations

from flask import Blueprint, Response, request

from src.core.bulk_upload import import_jobs
from src.core.roles import ADMIN_OR_USER
from src.flask_app.door import auth_required, current_user, db_session, render, settings
from src.schemas.bulk_upload import BulkUploadOptions, BulkUploadResponse

bp = Blueprint("bulk_upload", __name__)


@bp.post("/jobs/bulk-upload")
@auth_required(roles=ADMIN_OR_USER)
def bulk_upload() -> Response:
    upload = request.files.get("file")
    filename: str | None = None
    content: bytes | None = None
    if upload is not None:
        filename = upload.filename or ""
        # One byte past the limit is enough for core to answer 413 without reading further.
        content = upload.stream.read(settings().BULK_UPLOAD_MAX_BYTES + 1)
    options = BulkUploadOptions.from_form(request.form)
    result = import_jobs(
        db_session(),
        settings(),
        current_user(),
        filename=filename,
        content=content,
        default_github_owner=options.default_github_owner,
        dry_run=options.dry_run,
    )
    return render(BulkUploadResponse.of(result))

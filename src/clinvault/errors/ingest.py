"""CSV ingest: signed uploads, import jobs, the file's format."""

from __future__ import annotations

from clinvault.errors.base import Conflict, Gone, NotFound, PermissionDenied, RequestInvalid


class IngestUploadNotFound(NotFound):
    code = "ingest_upload_not_found"
    title = "Upload not found"


class IngestJobNotFound(NotFound):
    code = "ingest_job_not_found"
    title = "Import job not found"


class IngestUrlInvalid(PermissionDenied):
    code = "ingest_url_invalid"
    title = "The upload URL is not valid"


class IngestUrlExpired(Gone):
    code = "ingest_url_expired"
    title = "The upload URL has expired"


class IngestUrlUsed(Conflict):
    code = "ingest_url_used"
    title = "The upload URL was already used"


class IngestFileTooLarge(RequestInvalid):
    status = 413
    code = "ingest_file_too_large"
    title = "The file is too large"


class IngestFileRejected(RequestInvalid):
    """The file as a whole cannot be imported: not CSV, not UTF-8, empty, wrong header."""

    code = "ingest_file_rejected"
    title = "The file cannot be imported"


class IngestUploadIncomplete(Conflict):
    code = "ingest_upload_incomplete"
    title = "The upload is not complete"


class IngestJobFinished(Conflict):
    code = "ingest_job_finished"
    title = "The import job has already finished"


class IngestReportMissing(NotFound):
    code = "ingest_report_missing"
    title = "The job has no error report"


class IngestUploadUndeclared(RequestInvalid):
    """With S3 storage an upload must declare the file's size and SHA-256 up front."""

    code = "ingest_upload_undeclared"
    title = "The upload must declare the file's size and SHA-256"


class IngestUploadMismatch(RequestInvalid):
    """The object PUT to the bucket is not the file the upload declared."""

    code = "ingest_upload_mismatch"
    title = "The uploaded file is not the one declared"

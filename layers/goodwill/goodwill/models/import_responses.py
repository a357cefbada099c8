"""What the bulk import routes answer (GET/POST /goodwill/bulk-imports...), for the OpenAPI document;
the other routes' models are in responses.py."""

from typing import Literal

from pydantic import Field

from goodwill.models.common import Timestamp, View

ImportStatusName = Literal[
    "AWAITING_UPLOAD",
    "RUNNING",
    "COMPLETED",
    "COMPLETED_WITH_ERRORS",
    "FAILED",
    "REVERTING",
    "REVERTED",
    "REVERTED_WITH_ERRORS",
]


class ImportTotals(View):
    rows: int = Field(ge=0)
    applied: int = Field(ge=0)
    failed: int = Field(ge=0)


class BulkImportCreatedResponse(View):
    """201: PUT the CSV file to `upload_url` with `upload_headers`; the upload starts the import."""

    import_id: str
    status: Literal["AWAITING_UPLOAD"]
    upload_url: str = Field(description="A presigned S3 URL for imports/{org_id}/{import_id}.csv")
    upload_method: Literal["PUT"]
    upload_headers: dict[str, str]
    upload_expires_at: Timestamp


class RevertTotals(View):
    rows: int = Field(ge=0, description="Rows the import applied")
    reversed: int = Field(ge=0)
    failed: int = Field(ge=0, description="Rows that could not be reversed (the report says why)")
    skipped: int = Field(ge=0, description="Rows reversed before (a single reversal) or that changed nothing")


class ImportRevert(View):
    """POST /goodwill/bulk-imports/{import_id}/revert: who asked, when, and how it went."""

    requested_by: str | None = None
    comment: str | None = None
    started_at: Timestamp | None = None
    finished_at: Timestamp | None = None
    totals: RevertTotals
    error: str | None = Field(default=None, description="Why the revert stopped or could not run")


class BulkImportResponse(View):
    """An import and its totals; fields of steps not taken yet are absent."""

    import_id: str
    status: ImportStatusName
    program_id: str | None = None
    mode: Literal["ADD", "SET"] | None = None
    dry_run: bool | None = None
    notify_customers: bool | None = None
    source: Literal["API", "S3"] | None = Field(default=None, description="S3: a file put without the API")
    totals: ImportTotals
    created_by: str | None = None
    created_at: Timestamp
    started_at: Timestamp | None = None
    finished_at: Timestamp | None = None
    error: str | None = Field(default=None, description="Why a FAILED import failed")
    report_url: str | None = Field(default=None, description="A presigned URL of the report CSV, once written")
    revert: ImportRevert | None = Field(default=None, description="The revert, once one was asked for")
    revert_report_url: str | None = Field(
        default=None, description="A presigned URL of the revert report CSV (the import report's columns), once written"
    )

"""Bulk CSV imports: the API body, the statuses, and the tasks of the import workflow."""

from enum import StrEnum

from pydantic import StrictBool

from goodwill.models.common import Comment, StrictModel
from goodwill.models.config import ProgramId


class ImportMode(StrEnum):
    ADD = "ADD"  # points is a signed change
    SET = "SET"  # points is the new current balance


class ImportStatus(StrEnum):
    AWAITING_UPLOAD = "AWAITING_UPLOAD"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    COMPLETED_WITH_ERRORS = "COMPLETED_WITH_ERRORS"
    FAILED = "FAILED"
    REVERTING = "REVERTING"  # a revert of the finished import runs (reverts/)
    REVERTED = "REVERTED"
    REVERTED_WITH_ERRORS = "REVERTED_WITH_ERRORS"


FINAL_STATUSES = frozenset({ImportStatus.COMPLETED, ImportStatus.COMPLETED_WITH_ERRORS, ImportStatus.FAILED})


class ImportSource(StrEnum):
    API = "API"  # POST /goodwill/bulk-imports, then the presigned upload
    S3 = "S3"  # a file put under imports/{org_id}/ directly, settings in its metadata


class BulkImportCreateRequest(StrictModel):
    program_id: ProgramId
    mode: ImportMode = ImportMode.ADD
    dry_run: StrictBool = False
    notify_customers: StrictBool = False


class RevertImportRequest(StrictModel):
    comment: Comment | None = None

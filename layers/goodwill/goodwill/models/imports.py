"""Bulk CSV imports: the API body, the statuses, and the tasks of the import workflow."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field, StrictBool

from goodwill.models.common import ID_PATTERN, ORG_ID_PATTERN, Comment, StrictModel
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


class ImportTask(BaseModel):
    """One task of statemachine/bulk_import.asl.json, as its Lambda payload."""

    job: Literal["import", "revert"] = "import"
    action: Literal["scan", "chunk", "finish", "fail"]
    org_id: str = Field(pattern=ORG_ID_PATTERN)
    import_id: str = Field(pattern=ID_PATTERN)
    attempt: int = Field(ge=1)
    header: str | None = Field(default=None, max_length=200)
    chunk: dict[str, Any] | None = None
    error: dict[str, Any] | None = None

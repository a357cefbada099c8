"""The bulk import's Step Functions task (statemachine/bulk_import.asl.json), as its Lambda
payload; apart from models.imports, whose API bodies the task function does not need."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from goodwill.models.common import ID_PATTERN, ORG_ID_PATTERN


class ImportTask(BaseModel):
    """One task of statemachine/bulk_import.asl.json, as its Lambda payload."""

    model_config = ConfigDict(defer_build=True)  # built by the first task, not by an S3 event's start

    job: Literal["import", "revert"] = "import"
    action: Literal["scan", "chunk", "finish", "fail"]
    org_id: str = Field(pattern=ORG_ID_PATTERN)
    import_id: str = Field(pattern=ID_PATTERN)
    attempt: int = Field(ge=1)
    header: str | None = Field(default=None, max_length=200)
    chunk: dict[str, Any] | None = None
    error: dict[str, Any] | None = None

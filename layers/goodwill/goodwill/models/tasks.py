"""The Lambda payloads of the Step Functions tasks (what each workflow's states send a function):
the request workflow, the notification workflow and the expiry run. The bulk import's task is
`models.import_tasks.ImportTask`."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from goodwill.models.common import ID_PATTERN, ORG_ID_PATTERN
from goodwill.repositories.keys import DUE_SHARDS

ISO_MILLIS = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"


class TaskPayload(BaseModel):
    """What every task payload has: the action its state asks for."""

    # Each task function parses one of these; built on its first invocation, not at import.
    model_config = ConfigDict(defer_build=True)

    action: str


class WorkflowTask(TaskPayload):
    """statemachine/request_workflow.asl.json: fulfil an approved request, record a failure, expire."""

    action: Literal["fulfil", "fail", "expire"]
    org_id: str = Field(pattern=ORG_ID_PATTERN)
    request_id: str = Field(pattern=ID_PATTERN)
    error: dict[str, Any] | None = None


class NotifyTask(TaskPayload):
    """statemachine/notify.asl.json: count the attempts, send one, record a failed one."""

    action: Literal["plan", "send", "fail"]
    org_id: str = Field(pattern=ORG_ID_PATTERN)
    request_id: str = Field(pattern=ID_PATTERN)
    index: int = Field(default=0, ge=0, lt=10)
    error: dict[str, Any] | None = None  # the Catch output of a failed send: {"Error", "Cause"}


class ExpiryTask(TaskPayload):
    """statemachine/expire_points.asl.json: plan the shards, settle one shard."""

    action: Literal["plan", "shard"]
    shard: int | None = Field(default=None, ge=0, lt=DUE_SHARDS)
    until: str | None = Field(default=None, pattern=ISO_MILLIS)
    cursor: str | None = Field(default=None, max_length=4096)

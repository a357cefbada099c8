"""Step Functions tasks of the notification workflow: count the attempts, send one attempt (its
contact and message resolved here, never in the workflow's state), record a failed one."""

from __future__ import annotations

from typing import Any, Literal

from aws_lambda_powertools.utilities.parser import BaseModel, event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field

from goodwill.models.common import ID_PATTERN
from goodwill.observability import logger
from goodwill.services import notify, notify_send


class NotifyTask(BaseModel):
    action: Literal["plan", "send", "fail"]
    org_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    request_id: str = Field(pattern=ID_PATTERN)
    index: int = Field(default=0, ge=0, lt=10)
    error: dict[str, Any] | None = None  # the Catch output of a failed send: {"Error", "Cause"}


@logger.inject_lambda_context
@event_parser(model=NotifyTask)
def lambda_handler(event: NotifyTask, context: LambdaContext) -> dict[str, Any]:
    if event.action == "plan":
        return notify.plan(event.org_id, event.request_id)
    if event.action == "send":
        return notify_send.send(event.org_id, event.request_id, event.index)
    return notify_send.fail(event.org_id, event.request_id, event.index, event.error or {})

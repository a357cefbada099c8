"""Step Functions tasks of the notification workflow: plan the channels, record each attempt."""

from __future__ import annotations

from typing import Any, Literal

from aws_lambda_powertools.utilities.parser import BaseModel, event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field

from goodwill.models.common import ID_PATTERN
from goodwill.observability import logger
from goodwill.services import notify


class Attempt(BaseModel):
    channel: Literal["SMS", "EMAIL", "PUSH"]
    status: Literal["SENT", "FAILED", "SKIPPED"]
    to: str | None = Field(default=None, max_length=512)
    message_id: str | None = Field(default=None, max_length=256)
    error: str | None = Field(default=None, max_length=1000)


class NotifyTask(BaseModel):
    action: Literal["plan", "record"]
    org_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    request_id: str = Field(pattern=ID_PATTERN)
    attempt: Attempt | None = None


@logger.inject_lambda_context
@event_parser(model=NotifyTask)
def lambda_handler(event: NotifyTask, context: LambdaContext) -> dict[str, Any]:
    if event.action == "plan":
        return notify.plan(event.org_id, event.request_id)
    if event.attempt is not None:
        attempt = event.attempt.model_dump(exclude_none=True)
        if not attempt.get("to"):
            attempt.pop("to", None)
        notify.record_attempts(event.org_id, event.request_id, [attempt])
    return {"recorded": True}

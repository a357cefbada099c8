"""Step Functions tasks of the notification workflow: count the attempts, send one attempt (its
contact and message resolved here, never in the workflow's state), record a failed one."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from goodwill.models.tasks import NotifyTask
from goodwill.notify import plan, send
from goodwill.observability import logger


@logger.inject_lambda_context
@event_parser(model=NotifyTask)
def lambda_handler(event: NotifyTask, context: LambdaContext) -> dict[str, Any]:
    if event.action == "plan":
        return plan.plan(event.org_id, event.request_id)
    if event.action == "send":
        return send.send(event.org_id, event.request_id, event.index)
    return send.fail(event.org_id, event.request_id, event.index, event.error or {})

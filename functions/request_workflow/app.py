"""Step Functions tasks of the request workflow: fulfil an approved request, record a failure."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from goodwill.approvals import decisions
from goodwill.models.tasks import WorkflowTask
from goodwill.observability import logger


@logger.inject_lambda_context
@event_parser(model=WorkflowTask)
def lambda_handler(event: WorkflowTask, context: LambdaContext) -> dict[str, Any]:
    if event.action == "fulfil":
        return decisions.fulfil(event.org_id, event.request_id)
    if event.action == "expire":
        return decisions.expire(event.org_id, event.request_id)
    error = event.error or {}
    decisions.mark_failed(
        event.org_id,
        event.request_id,
        str(error.get("Error", "FULFILMENT_FAILED")),
        str(error.get("Cause", "the fulfilment step failed")),
    )
    return {"status": "FAILED"}

"""Step Functions tasks of the request workflow: fulfil an approved request, record a failure,
end a request whose approval timed out."""

from __future__ import annotations

from typing import Any

from goodwill.approvals import fulfilment
from goodwill.models.tasks import WorkflowTask
from goodwill.task_handler import task_entry


def record_failure(task: WorkflowTask) -> dict[str, Any]:
    error = task.error or {}
    cause = str(error.get("Cause", "the fulfilment step failed"))
    fulfilment.mark_failed(task.org_id, task.request_id, str(error.get("Error", "FULFILMENT_FAILED")), cause)
    return {"status": "FAILED"}


lambda_handler = task_entry(
    WorkflowTask,
    {
        "fulfil": lambda task: fulfilment.fulfil(task.org_id, task.request_id),
        "expire": lambda task: fulfilment.expire(task.org_id, task.request_id),
        "fail": record_failure,
    },
)

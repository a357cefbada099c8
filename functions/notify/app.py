"""Step Functions tasks of the notification workflow: count the attempts, send one attempt (its
contact and message resolved here, never in the workflow's state), record a failed one."""

from __future__ import annotations

from goodwill.models.tasks import NotifyTask
from goodwill.notify import plan, send
from goodwill.task_handler import task_entry

lambda_handler = task_entry(
    NotifyTask,
    {
        "plan": lambda task: plan.plan(task.org_id, task.request_id),
        "send": lambda task: send.send(task.org_id, task.request_id, task.index),
        "fail": lambda task: send.fail(task.org_id, task.request_id, task.index, task.error or {}),
    },
)

"""The handler of a Step Functions task function: `task_entry(Model, actions)`.

Kept apart from goodwill.handler (the API functions' helper) so a task function loads no HTTP
resolver: Powertools' event_handler with its OpenAPI machinery is ~10% of a cold start that a
task, answered by Step Functions and never by API Gateway, never uses. The payload is validated
by its own model (`model_validate`), not Powertools' parser: the parser adds nothing for a plain
payload (no envelope) but its import and a second validator (a TypeAdapter) per model, ~5 ms.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, cast

from aws_lambda_powertools.utilities.typing import LambdaContext

from goodwill.observability import logger

if TYPE_CHECKING:
    from goodwill.models.tasks import TaskPayload

LambdaHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def task_entry[T: TaskPayload](model: type[T], actions: Mapping[str, Callable[[T], dict[str, Any]]]) -> LambdaHandler:
    """The Lambda handler of a workflow's task function: the payload validated as `model` (a bad
    payload raises pydantic's ValidationError and fails the task), then the function of its `action`."""

    @logger.inject_lambda_context
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        task = model.model_validate(event)
        return actions[task.action](task)

    return cast(LambdaHandler, lambda_handler)

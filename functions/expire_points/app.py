"""The expiry run's tasks (statemachine/expire_points.asl.json): plan the shards, settle one shard."""

from __future__ import annotations

from typing import Any

from goodwill.lots import expiry
from goodwill.models.tasks import ExpiryTask
from goodwill.observability import LambdaContext, logger


@logger.inject_lambda_context
def lambda_handler(payload: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    event = ExpiryTask.model_validate(payload)  # a bad payload fails the task
    if event.action == "plan":
        return expiry.plan()
    if event.shard is None or event.until is None:
        raise ValueError("a shard task needs the shard and the time it settles up to")
    # Leave a minute of the function's time for the last balance and the answer.
    seconds = max(1.0, context.get_remaining_time_in_millis() / 1000 - 60) if context else 600.0
    result = expiry.run_shard(event.shard, event.until, event.cursor, seconds)
    logger.info("shard settled", extra={k: v for k, v in result.items() if k != "cursor"})
    return result

"""DynamoDB stream -> domain events on the EventBridge bus (ledger entries, decided requests,
issued coupons, finished imports), and the daily aggregates of the goodwill spend report."""

from __future__ import annotations

from typing import Any

from goodwill.events import consume
from goodwill.observability import LambdaContext, logger


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return consume.handle(event.get("Records") or [])

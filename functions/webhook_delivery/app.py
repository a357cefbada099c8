"""Webhook queue -> the org's endpoints: fan events out, POST them signed, back off for 24 h."""

from __future__ import annotations

from typing import Any

from goodwill.observability import LambdaContext, logger
from goodwill.webhooks import delivery


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return delivery.handle(event.get("Records") or [])

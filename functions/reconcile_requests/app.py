"""Scheduled (EventBridge Scheduler): find requests their workflow left behind and restart or end
them (goodwill.approvals.reconcile)."""

from __future__ import annotations

from typing import Any

from goodwill.approvals import reconcile
from goodwill.observability import LambdaContext, logger


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # The schedule's input carries nothing the reconciler needs: what to look at is in the table.
    outcomes = reconcile.run()
    logger.info("reconciled requests", extra={"outcomes": outcomes})
    return {"outcomes": outcomes}

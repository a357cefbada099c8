"""POST /goodwill/coupons - hand out a goodwill coupon (approval by default)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body, Header
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from goodwill.api import build_resolver, current_principal, json_response, resolve
from goodwill.auth import Role
from goodwill.models.requests import CouponGrantRequest
from goodwill.models.responses import CouponGrantResponse, PendingResponse, route_responses
from goodwill.observability import logger, metrics
from goodwill.services import coupon_requests

app = build_resolver()


@app.post(
    "/goodwill/coupons",
    summary="Hand out a goodwill coupon",
    description=(
        "Role: agent. Waits for an approver (202) unless the org auto-approves coupons (201). "
        "A repeat with the same Idempotency-Key and body returns the first response and changes nothing."
    ),
    tags=["Goodwill requests"],
    operation_id="issueCoupon",
    responses=route_responses(
        {
            201: (CouponGrantResponse, "Auto-approved: the coupon is issued"),
            202: (PendingResponse, "Waiting for an approver"),
        },
        body=True,
        not_found="no such customer or coupon series",
        conflict="SERIES_EXHAUSTED: the pool has no codes left; "
        "IDEMPOTENCY_KEY_REUSED: the key was used with another body",
    ),
)
def issue_coupon(
    body: Annotated[CouponGrantRequest, Body()],
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=128)] = None,
) -> Any:
    principal = current_principal(app, Role.AGENT)
    outcome = coupon_requests.grant(principal, body, idempotency_key, principal.source.value)
    metrics.add_metric(name="CouponRequests", unit="Count", value=1)
    return json_response(outcome.status_code, outcome.body)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(app, event, context)

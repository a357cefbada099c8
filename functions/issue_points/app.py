"""POST /goodwill/points - give or take goodwill points (auto-approved or queued for approval)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from goodwill.api import build_resolver, current_principal, json_response, resolve
from goodwill.auth import Role
from goodwill.lots import reversal
from goodwill.models.common import ID_PATTERN
from goodwill.models.downstream import AgentLimitsResponse
from goodwill.models.requests import PointsGrantRequest, ReverseRequest
from goodwill.models.responses import PendingResponse, PointsGrantResponse, route_responses
from goodwill.observability import logger, metrics
from goodwill.services import limits, points
from goodwill.services.config import get_config

app = build_resolver()


@app.post(
    "/goodwill/points",
    summary="Give or take goodwill points",
    description=(
        "Role: agent. Applied at once (201) unless the org's rules need an approver (202). "
        "A repeat with the same Idempotency-Key and body returns the first response and changes nothing."
    ),
    tags=["Goodwill requests"],
    operation_id="issuePoints",
    responses=route_responses(
        {
            201: (PointsGrantResponse, "Auto-approved: the balance has changed"),
            202: (PendingResponse, "Waiting for an approver"),
        },
        body=True,
        not_found="no such customer or program",
        conflict="INSUFFICIENT_BALANCE: the debit would take current below 0; "
        "IDEMPOTENCY_KEY_REUSED: the key was used with another body",
    ),
)
def issue_points(
    body: Annotated[PointsGrantRequest, Body()],
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=128)] = None,
) -> Any:
    principal = current_principal(app, Role.AGENT)
    outcome = points.grant(principal, body, idempotency_key, principal.source.value)
    metrics.add_metric(name="PointsRequests", unit="Count", value=1)
    return json_response(outcome.status_code, outcome.body)


@app.post(
    "/customers/<customer_id>/transactions/<transaction_id>/reverse",
    summary="Reverse one ledger entry",
    description=(
        "Role: agent. A goodwill request of type REVERSAL: a new entry with the opposite points, linked "
        "both ways (`reverses` / `reversed_by`). Applied at once (201) unless the org's rules on "
        "|points| need an approver (202). Same Idempotency-Key semantics as a grant."
    ),
    tags=["Goodwill requests"],
    operation_id="reverseTransaction",
    responses=route_responses(
        {
            201: (PointsGrantResponse, "Applied: the balance has changed"),
            202: (PendingResponse, "Waiting for an approver"),
        },
        body=True,
        not_found="no such customer or transaction",
        conflict="ALREADY_REVERSED: reversed, or a reversal is waiting; NOT_REVERSIBLE: a REVERSAL or "
        "EXPIRY entry; INSUFFICIENT_BALANCE: the credit's points are spent; IDEMPOTENCY_KEY_REUSED",
    ),
)
def reverse_transaction(
    customer_id: Annotated[str, Path(pattern=ID_PATTERN, max_length=64)],
    transaction_id: Annotated[str, Path(pattern=ID_PATTERN, max_length=64)],
    body: Annotated[ReverseRequest, Body()],
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=128)] = None,
) -> Any:
    principal = current_principal(app, Role.AGENT)
    outcome = reversal.reverse(principal, customer_id, transaction_id, body, idempotency_key)
    metrics.add_metric(name="Reversals", unit="Count", value=1)
    return json_response(outcome.status_code, outcome.body)


@app.get(
    "/me/limits",
    summary="The caller's agent daily limit",
    description=(
        "Role: agent. The points the caller may still credit today (UTC) without an approver "
        "(`points.agent_daily_limit`); approvers and admins are not limited."
    ),
    tags=["Goodwill requests"],
    operation_id="getMyLimits",
    responses=route_responses({200: (AgentLimitsResponse, "Today's limit and use")}),
)
def get_my_limits() -> Any:
    principal = current_principal(app, Role.AGENT)
    return json_response(200, limits.read(principal, get_config(principal.org_id)).view())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(app, event, context)

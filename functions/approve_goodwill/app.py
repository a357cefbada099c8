"""Goodwill requests: list, read, approve and reject (maker-checker), one or many at once."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from goodwill.api import build_resolver, current_principal, json_response, resolve
from goodwill.auth import Role
from goodwill.models.common import ID_PATTERN
from goodwill.models.requests import ApproveRequest, Decision, RejectRequest, RequestDecisionsRequest, RequestStatus
from goodwill.models.responses import (
    GoodwillRequestResponse,
    RequestDecisionsResponse,
    RequestPage,
    route_responses,
)
from goodwill.observability import logger, metrics
from goodwill.services import approvals, requests

app = build_resolver()

RequestId = Annotated[str, Path(pattern=ID_PATTERN, max_length=64)]


@app.get(
    "/goodwill/requests",
    summary="List goodwill requests, newest first",
    description="Role: agent. Filter by `status` and / or `customer_id`.",
    tags=["Goodwill requests"],
    operation_id="listRequests",
    responses=route_responses({200: (RequestPage, "A page of requests")}),
)
def list_requests(
    status: Annotated[RequestStatus | None, Query()] = None,
    customer_id: Annotated[str | None, Query(pattern=ID_PATTERN, max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    next_token: Annotated[str | None, Query(max_length=2048)] = None,
) -> Any:
    principal = current_principal(app, Role.AGENT)
    found = approvals.list_requests(principal, status.value if status else None, customer_id, limit, next_token)
    return json_response(200, found)


@app.get(
    "/goodwill/requests/<request_id>",
    summary="Read a goodwill request with its history",
    description="Role: agent.",
    tags=["Goodwill requests"],
    operation_id="getRequest",
    responses=route_responses(
        {200: (GoodwillRequestResponse, "The request")}, not_found="no such request", ids_in_path=True
    ),
)
def get_request(request_id: RequestId) -> Any:
    principal = current_principal(app, Role.AGENT)
    return json_response(200, requests.view(approvals.require_request(principal.org_id, request_id)))


@app.post(
    "/goodwill/requests/<request_id>/approve",
    summary="Approve a pending request",
    description=(
        "Role: approver, never the requester (403 SELF_APPROVAL_FORBIDDEN). `points` changes the amount "
        "(same sign, within max_per_request). The workflow then fulfils the request within seconds."
    ),
    tags=["Goodwill requests"],
    operation_id="approveRequest",
    responses=route_responses(
        {200: (GoodwillRequestResponse, "Approved")},
        body=True,
        not_found="no such request",
        conflict="NOT_PENDING: the request was decided already, or expired",
        ids_in_path=True,
    ),
)
def approve(request_id: RequestId, body: Annotated[ApproveRequest, Body()]) -> Any:
    principal = current_principal(app, Role.AGENT)
    decided = approvals.decide(principal, request_id, True, body)
    metrics.add_metric(name="RequestsApproved", unit="Count", value=1)
    return json_response(200, requests.view(decided))


@app.post(
    "/goodwill/requests/<request_id>/reject",
    summary="Reject a pending request",
    description="Role: approver, never the requester (403 SELF_APPROVAL_FORBIDDEN). A comment is required.",
    tags=["Goodwill requests"],
    operation_id="rejectRequest",
    responses=route_responses(
        {200: (GoodwillRequestResponse, "Rejected")},
        body=True,
        not_found="no such request",
        conflict="NOT_PENDING: the request was decided already, or expired",
        ids_in_path=True,
    ),
)
def reject(request_id: RequestId, body: Annotated[RejectRequest, Body()]) -> Any:
    principal = current_principal(app, Role.AGENT)
    decided = approvals.decide(principal, request_id, False, body)
    metrics.add_metric(name="RequestsRejected", unit="Count", value=1)
    return json_response(200, requests.view(decided))


@app.post(
    "/goodwill/request-decisions",
    summary="Approve or reject up to 50 pending requests at once",
    description=(
        "Role: approver. Each request is decided exactly as its own approve / reject route would "
        "decide it, independently of the others: a result per id, in the order sent, with the "
        "decided request (200) or the error the single route would answer (403 "
        "SELF_APPROVAL_FORBIDDEN, 404 no such request in the caller's org, 409 NOT_PENDING). "
        "A comment is required to reject; points cannot be changed in a batch. Each id at most "
        "once (422 otherwise: nothing is decided)."
    ),
    tags=["Goodwill requests"],
    operation_id="decideRequests",
    responses=route_responses({200: (RequestDecisionsResponse, "A result per request")}, body=True),
)
def decide_requests(body: Annotated[RequestDecisionsRequest, Body()]) -> Any:
    principal = current_principal(app, Role.APPROVER)
    results = approvals.decide_many(principal, body)
    if decided := sum(r["status"] == 200 for r in results):
        name = "RequestsApproved" if body.decision is Decision.APPROVE else "RequestsRejected"
        metrics.add_metric(name=name, unit="Count", value=decided)
    return json_response(200, {"results": results})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(app, event, context)

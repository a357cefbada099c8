"""Goodwill requests: list, read, approve and reject (maker-checker), one or many at once."""

from __future__ import annotations

from typing import Annotated, Any

from goodwill.api import json_response
from goodwill.approvals import decisions, records
from goodwill.auth import Role
from goodwill.handler import Api, Body, NextToken, PageLimit, PathId, Query, count
from goodwill.models.decisions import ApproveRequest, Decision, RejectRequest, RequestDecisionsRequest
from goodwill.models.vocabulary import ID_PATTERN, RequestStatus

app = Api("Goodwill requests")
NOT_PENDING = "NOT_PENDING: the request was decided already, or expired"


@app.endpoint("GET /goodwill/requests", {200: ("RequestPage", "A page of requests")}, role=Role.AGENT)
def list_requests(
    status: Annotated[RequestStatus | None, Query()] = None,
    customer_id: Annotated[str | None, Query(pattern=ID_PATTERN, max_length=64)] = None,
    limit: PageLimit = 25,
    next_token: NextToken = None,
) -> Any:
    """List goodwill requests, newest first

    Role: agent. Filter by `status` and / or `customer_id`."""
    found = decisions.list_requests(app.caller(), status.value if status else None, customer_id, limit, next_token)
    return json_response(200, found)


@app.endpoint(
    "GET /goodwill/requests/<request_id>",
    {200: ("GoodwillRequestResponse", "The request")},
    not_found="no such request",
    role=Role.AGENT,
)
def get_request(request_id: PathId) -> Any:
    """Read a goodwill request with its history

    Role: agent."""
    return json_response(200, records.view(decisions.require_request(app.caller().org_id, request_id)))


@app.endpoint(
    "POST /goodwill/requests/<request_id>/approve",
    {200: ("GoodwillRequestResponse", "Approved")},
    not_found="no such request",
    conflict=NOT_PENDING,
    role=Role.APPROVER,
)
def approve_request(request_id: PathId, body: Annotated[ApproveRequest, Body()]) -> Any:
    """Approve a pending request

    Role: approver, never the requester (403 SELF_APPROVAL_FORBIDDEN). `points` changes the amount
    (same sign, within max_per_request). The workflow then fulfils the request within seconds."""
    decided = decisions.decide(app.caller(), request_id, True, body)
    count("RequestsApproved")
    return json_response(200, records.view(decided))


@app.endpoint(
    "POST /goodwill/requests/<request_id>/reject",
    {200: ("GoodwillRequestResponse", "Rejected")},
    not_found="no such request",
    conflict=NOT_PENDING,
    role=Role.APPROVER,
)
def reject_request(request_id: PathId, body: Annotated[RejectRequest, Body()]) -> Any:
    """Reject a pending request

    Role: approver, never the requester (403 SELF_APPROVAL_FORBIDDEN). A comment is required."""
    decided = decisions.decide(app.caller(), request_id, False, body)
    count("RequestsRejected")
    return json_response(200, records.view(decided))


@app.endpoint(
    "POST /goodwill/request-decisions", {200: ("RequestDecisionsResponse", "A result per request")}, role=Role.APPROVER
)
def decide_requests(body: Annotated[RequestDecisionsRequest, Body()]) -> Any:
    """Approve or reject up to 50 pending requests at once

    Role: approver. Each request is decided exactly as its own approve / reject route would
    decide it, independently of the others: a result per id, in the order sent, with the
    decided request (200) or the error the single route would answer (403
    SELF_APPROVAL_FORBIDDEN, 404 no such request in the caller's org, 409 NOT_PENDING; 503
    SERVICE_UNAVAILABLE when AWS stayed busy for that one request: send its id again; the
    others are as reported).
    A comment is required to reject; points cannot be changed in a batch. Each id at most
    once (422 otherwise: nothing is decided)."""
    results = decisions.decide_many(app.caller(), body)
    if decided := sum(r["status"] == 200 for r in results):
        count("RequestsApproved" if body.decision is Decision.APPROVE else "RequestsRejected", decided)
    return json_response(200, {"results": results})


lambda_handler = app.entry_point()

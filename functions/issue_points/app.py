"""POST /goodwill/points - give or take goodwill points (auto-approved or queued for approval);
reverse one ledger entry; the caller's agent daily limit."""

from __future__ import annotations

from typing import Annotated, Any

from goodwill.api import json_response
from goodwill.auth import Role
from goodwill.handler import Api, Body, IdempotencyKey, PathId, Successes, granted
from goodwill.lots import reversal
from goodwill.models.requests import PointsGrantRequest, ReverseRequest
from goodwill.points import grants, limits
from goodwill.services.config import get_config

app = Api("Goodwill requests")
WAITING = ("PendingResponse", "Waiting for an approver")
GRANTED: Successes = {201: ("PointsGrantResponse", "Auto-approved: the balance has changed"), 202: WAITING}
REVERSED: Successes = {201: ("PointsGrantResponse", "Applied: the balance has changed"), 202: WAITING}
GRANT_CONFLICTS = (
    "INSUFFICIENT_BALANCE: the debit would take current below 0; "
    "IDEMPOTENCY_KEY_REUSED: the key was used with another body"
)
REVERSAL_CONFLICTS = (
    "ALREADY_REVERSED: reversed, or a reversal is waiting; NOT_REVERSIBLE: a REVERSAL or "
    "EXPIRY entry; INSUFFICIENT_BALANCE: the credit's points are spent; IDEMPOTENCY_KEY_REUSED"
)


@app.endpoint(
    "POST /goodwill/points", GRANTED, not_found="no such customer or program", conflict=GRANT_CONFLICTS, role=Role.AGENT
)
def issue_points(body: Annotated[PointsGrantRequest, Body()], idempotency_key: IdempotencyKey = None) -> Any:
    """Give or take goodwill points

    Role: agent. Applied at once (201) unless the org's rules need an approver (202). A repeat
    with the same Idempotency-Key and body returns the first response and changes nothing."""
    principal = app.caller()
    return granted(grants.grant(principal, body, idempotency_key, principal.source.value), "PointsRequests")


@app.endpoint(
    "POST /customers/<customer_id>/transactions/<transaction_id>/reverse",
    REVERSED,
    not_found="no such customer or transaction",
    conflict=REVERSAL_CONFLICTS,
    ids_in_path=False,
    role=Role.AGENT,
)
def reverse_transaction(
    customer_id: PathId,
    transaction_id: PathId,
    body: Annotated[ReverseRequest, Body()],
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """Reverse one ledger entry

    Role: agent. A goodwill request of type REVERSAL: a new entry with the opposite points, linked
    both ways (`reverses` / `reversed_by`). Applied at once (201) unless the org's rules on
    |points| need an approver (202). Same Idempotency-Key semantics as a grant."""
    outcome = reversal.reverse(app.caller(), customer_id, transaction_id, body, idempotency_key)
    return granted(outcome, "Reversals")


@app.endpoint("GET /me/limits", {200: ("AgentLimitsResponse", "Today's limit and use")}, role=Role.AGENT)
def get_my_limits() -> Any:
    """The caller's agent daily limit

    Role: agent. The points the caller may still credit today (UTC) without an approver
    (`points.agent_daily_limit`); approvers and admins are not limited."""
    principal = app.caller()
    return json_response(200, limits.read(principal, get_config(principal.org_id)).view())


lambda_handler = app.entry_point()

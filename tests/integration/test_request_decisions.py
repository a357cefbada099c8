"""POST /goodwill/request-decisions: each request decided as its own route would, independently;
self-approval, another org's id, not pending; validation and roles, with nothing decided."""

from __future__ import annotations

from typing import Any

from local.aws.stack import Stack
from tests.support import ADMIN, AGENT, APPROVER, OTHER_ADMIN, Api, claims, table_items

DECISIONS = "/goodwill/request-decisions"


def pending(api: Api, customer_id: str = "c-1", points: int = 500, as_: dict[str, str] = AGENT) -> str:
    reply = api.grant(customer_id, points, as_=as_)
    assert reply.status == 202, reply.body
    return str(reply.body["request"]["request_id"])


def statuses(reply: Any) -> list[tuple[str, int, str | None]]:
    return [
        (r["request_id"], r["status"], (r.get("request") or {}).get("status") or r["error"]["code"])
        for r in reply.body["results"]
    ]


def setup(api: Api) -> None:
    api.put("/config", {"points": {"approval_threshold": 100}})
    api.customer("c-1")


def test_batch_approve_decides_each_and_refuses_the_approvers_own(api: Api, stack: Stack) -> None:
    # Given three pending requests, one of them made by the approver
    setup(api)
    first, second = pending(api, points=300), pending(api, points=400)
    own = pending(api, points=500, as_=APPROVER)
    stack.settle()
    # When the approver approves all three at once
    reply = api.post(
        DECISIONS, {"decision": "APPROVE", "request_ids": [first, own, second], "comment": "ok"}, as_=APPROVER
    )
    # Then two are approved, the own one refused as the single route refuses it, in the order sent
    assert reply.status == 200
    assert statuses(reply) == [
        (first, 200, "APPROVED"),
        (own, 403, "SELF_APPROVAL_FORBIDDEN"),
        (second, 200, "APPROVED"),
    ]
    assert reply.body["results"][0]["request"]["decision_comment"] == "ok"
    # And the workflow fulfils the two: the balance holds exactly their points; the own one still waits
    stack.settle()
    assert api.balance("c-1") == {"current": 700, "lifetime": 700}
    assert api.get(f"/goodwill/requests/{own}", as_=AGENT).body["status"] == "PENDING_APPROVAL"
    assert api.get(f"/goodwill/requests/{first}", as_=AGENT).body["decided_by"] == "carol"


def test_batch_answers_another_orgs_and_unknown_ids_404_and_leaves_them(api: Api, stack: Stack) -> None:
    setup(api)
    api.put("/config", {"points": {"approval_threshold": 100}}, as_=OTHER_ADMIN)
    api.customer("c-1", as_=OTHER_ADMIN)
    theirs = pending(api, as_=claims(org="globex", roles="agent", actor="eve"))
    ours = pending(api)
    reply = api.post(
        DECISIONS, {"decision": "REJECT", "request_ids": [theirs, "NOPE", ours], "comment": "no"}, as_=APPROVER
    )
    assert statuses(reply) == [(theirs, 404, "NOT_FOUND"), ("NOPE", 404, "NOT_FOUND"), (ours, 200, "REJECTED")]
    assert api.get(f"/goodwill/requests/{theirs}", as_=OTHER_ADMIN).body["status"] == "PENDING_APPROVAL"


def test_batch_answers_a_decided_request_409_and_decides_the_rest(api: Api, stack: Stack) -> None:
    setup(api)
    decided, fresh = pending(api), pending(api)
    assert api.post(f"/goodwill/requests/{decided}/reject", {"comment": "no"}, as_=APPROVER).status == 200
    reply = api.post(DECISIONS, {"decision": "REJECT", "request_ids": [decided, fresh], "comment": "dup"}, as_=ADMIN)
    assert statuses(reply) == [(decided, 409, "NOT_PENDING"), (fresh, 200, "REJECTED")]
    assert api.get(f"/goodwill/requests/{decided}", as_=AGENT).body["decision_comment"] == "no"


def test_bad_batches_are_422_naming_the_field_and_decide_nothing(api: Api, stack: Stack) -> None:
    setup(api)
    one = pending(api)
    bad: list[tuple[dict[str, Any], str]] = [
        ({"decision": "REJECT", "request_ids": [one]}, "comment"),
        ({"decision": "REJECT", "request_ids": [one], "comment": "  "}, "comment"),
        ({"decision": "APPROVE", "request_ids": [one], "comment": "x" * 501}, "comment"),
        ({"decision": "APPROVE", "request_ids": [one, one]}, "request_ids"),
        ({"decision": "APPROVE", "request_ids": []}, "request_ids"),
        ({"decision": "APPROVE", "request_ids": [f"r-{n}" for n in range(51)]}, "request_ids"),
        ({"decision": "APPROVE", "request_ids": ["bad id"]}, "request_ids.0"),
        ({"decision": "APPROVE", "request_ids": [one], "points": 10}, "points"),
        ({"decision": "MAYBE", "request_ids": [one]}, "decision"),
    ]
    before = table_items(stack)
    for body, field in bad:
        reply = api.post(DECISIONS, body, as_=APPROVER)
        assert (reply.status, reply.error_code, reply.fields()) == (422, "VALIDATION_ERROR", {field}), body
    assert table_items(stack) == before


def test_an_agent_cannot_decide_in_a_batch(api: Api, stack: Stack) -> None:
    setup(api)
    one = pending(api, as_=claims(roles="agent", actor="zed"))
    before = table_items(stack)
    reply = api.post(DECISIONS, {"decision": "APPROVE", "request_ids": [one]}, as_=AGENT)
    assert (reply.status, reply.error_code) == (403, "FORBIDDEN")
    assert table_items(stack) == before


class _Http:
    status_code = 400
    headers: dict[str, str] = {}  # noqa: RUF012


def test_batch_throttled_on_one_id_answers_it_503_and_reports_the_others_decided(api: Api, stack: Stack) -> None:
    from goodwill import aws

    # Given three pending requests
    setup(api)
    first, middle, last = pending(api, points=300), pending(api, points=400), pending(api, points=500)
    stack.settle()
    fired: list[str] = []

    def throttle_middle(params: dict[str, Any], **_: Any) -> Any:
        # DynamoDB still throttling the middle request's write once the SDK's retries are spent.
        if middle.encode() not in params.get("body", b""):
            return None
        fired.append(middle)
        error = {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}
        return _Http(), {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 400}}

    client = aws.dynamodb()
    client.meta.events.register("before-call.dynamodb.UpdateItem", throttle_middle)
    try:
        # When the approver approves the three at once, the middle one's write throttled
        reply = api.post(DECISIONS, {"decision": "APPROVE", "request_ids": [first, middle, last]}, as_=APPROVER)
    finally:
        client.meta.events.unregister("before-call.dynamodb.UpdateItem", throttle_middle)
    # Then the fault fired, and the answer says which were decided and which to retry
    assert fired == [middle]
    assert reply.status == 200, reply.body
    assert statuses(reply) == [(first, 200, "APPROVED"), (middle, 503, "SERVICE_UNAVAILABLE"), (last, 200, "APPROVED")]
    # And the table agrees: the middle one still waits, a retry of it alone decides it
    assert api.get(f"/goodwill/requests/{middle}", as_=AGENT).body["status"] == "PENDING_APPROVAL"
    again = api.post(DECISIONS, {"decision": "APPROVE", "request_ids": [middle]}, as_=APPROVER)
    assert statuses(again) == [(middle, 200, "APPROVED")]
    stack.settle()
    assert api.balance("c-1") == {"current": 1200, "lifetime": 1200}

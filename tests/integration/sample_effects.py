"""What each sample event under events/ must do to the seeded world (test_sample_events.py): a
preparation that puts the world where the sample's path starts, and a check of its effect. A
sample that passes as a no-op fails its check."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.support import AGENT, APPROVER, Api

REQ1, REQ2 = "01JSAMPLEREQUEST000000001", "01JSAMPLEREQUEST000000002"
IMPORT1, IMPORT2 = "01JSAMPRE1MP0RT00000000001", "01JSAMPRE1MP0RT00000000002"

Prepare = Callable[[Api, dict[str, Any]], None]  # may complete the event (a real task token)
Check = Callable[[Api, Any], None]
_bus: list[Any] = []  # the consumer a preparation put on the event bus


def _body(result: Any) -> Any:
    import json

    return json.loads(result["body"])


def _request(api: Api, request_id: str) -> dict[str, Any]:
    reply = api.get(f"/goodwill/requests/{request_id}", as_=AGENT)
    assert reply.status == 200, reply.body
    return reply.body  # type: ignore[no-any-return]


def _approve_req1(api: Api, event: dict[str, Any] | None = None) -> None:
    """Request 1 approved; its workflow (never started for the seeded request) not involved."""
    assert api.post(f"/goodwill/requests/{REQ1}/approve", {}, as_=APPROVER).status == 200


def _fulfil_req1(api: Api, event: dict[str, Any]) -> None:
    from goodwill.approvals import fulfilment

    _approve_req1(api)
    assert fulfilment.fulfil("acme", REQ1)["status"] == "FULFILLED"


def _waiting_req1(api: Api, event: dict[str, Any]) -> None:
    """Request 1's workflow runs and waits with its token, then an approver decides; the sample is
    the stream record of that decision, given the real token (its stream record is not delivered
    before the sample, so the sample's hand-over is the one that resumes the workflow)."""
    import time

    from goodwill.approvals import dispatch, records

    assert dispatch.start("approval", records.get("acme", REQ1) or {})
    for _ in range(1200):  # the execution's thread stores the token when its wait begins (a bound: 60 s)
        if token := (records.get("acme", REQ1) or {}).get("task_token"):
            break
        time.sleep(0.05)
    assert token, "the workflow never started waiting"
    _approve_req1(api)
    event["Records"][0]["dynamodb"]["NewImage"]["task_token"] = {"S": token}


def _coupon_issued(api: Api, event: dict[str, Any]) -> None:
    api.put("/config", {"coupons": {"auto_approve": True}})
    body = {"customer_id": "cust-001", "series_id": "winter-10", "reason": "DAMAGED_ITEM"}
    assert api.post("/goodwill/coupons", body, as_=AGENT).status == 201


def _client_created(api: Api, event: dict[str, Any]) -> None:
    body = {"name": "Shop", "scopes": ["goodwill/points.write"]}
    assert api.post("/api-clients", body).status == 201


def _check_upload(api: Api, result: Any) -> None:
    assert [i["outcome"] for i in result["imports"]] == ["STARTED"]
    api.stack.settle()
    view = api.get(f"/goodwill/bulk-imports/{IMPORT1}").body
    assert (view["status"], view["totals"]) == ("COMPLETED_WITH_ERRORS", {"rows": 2, "applied": 1, "failed": 1})
    assert api.balance("cust-001")["current"] == 750


def _check_decided(api: Api, result: Any) -> None:
    import time

    assert result == {"batchItemFailures": []}
    sfn = api.stack.client("stepfunctions")
    arn = api.stack.ref("RequestStateMachine").replace(":stateMachine:", ":execution:") + f":req-{REQ1}"
    # Resumed by the sample's hand-over, no stream record delivered meanwhile. The bound (150 s)
    # covers the workflow's own retries of a transient failure (6, doubling, capped at 30 s).
    for _ in range(3000):
        if sfn.describe_execution(executionArn=arn)["status"] != "RUNNING":
            break
        time.sleep(0.05)
    status = sfn.describe_execution(executionArn=arn)["status"]
    events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    assert status == "SUCCEEDED", (status, [e["type"] for e in events][-12:])  # what it did, if not
    api.stack.settle()
    assert _request(api, REQ1)["status"] == "FULFILLED"
    assert api.balance("cust-001")["current"] == 2500


def _check_pending_inserted(api: Api, result: Any) -> None:
    assert result == {"batchItemFailures": []}
    names = {e["name"]: e["status"] for e in api.stack.executions()}
    assert names[f"req-{REQ1}"] == "RUNNING"  # waiting for the decision


def _webhook_put(api: Api, event: dict[str, Any]) -> None:
    body = {"url": "https://93.184.215.14/goodwill", "event_types": ["Points Changed"]}
    assert api.put("/webhooks/crm", body).status in (200, 201)


def _check_attempt(api: Api, result: Any, status: str) -> None:
    assert result["status"] == status, result
    recorded = [(n["channel"], n["status"]) for n in _request(api, REQ1)["notifications"]]
    assert recorded == [("SMS", status)], recorded


def _bus_listening(api: Api, event: dict[str, Any]) -> None:
    from tests.integration.test_events import Bus

    _bus[:] = [Bus(api.stack)]


def _check_ledger_event(api: Api, result: Any) -> None:
    assert result == {"batchItemFailures": []}
    published = [e for e in _bus[0].read() if e["detail-type"] == "Points Changed"]
    assert "01JSAMPLETRANSACTION0001" in {e["detail"].get("transaction_id") for e in published}, published


def _settled(api: Api, event: dict[str, Any]) -> None:
    api.stack.settle()


def _check_report(api: Api, result: Any) -> None:
    body = _body(result)
    if body["group_by"] != "actor" or sum(row["credited"] for row in body["items"]) < 500:
        _fail(f"the seeded grant is not in the report: {body}")


def _signed_id_token(api: Api, event: dict[str, Any]) -> None:
    """The sample's placeholder becomes alice's ID token, signed with the run's key (local/aws/tokens.py)."""
    from local.aws import tokens
    from tests.support import ADMIN

    env = api.stack.functions.merged_environment()
    token = tokens.sign(tokens.id_token_claims(ADMIN, env["CONSOLE_CLIENT_ID"], env["USER_POOL_ID"]))
    event["headers"]["Authorization"] = f"Bearer {token}"
    event["multiValueHeaders"]["Authorization"] = [f"Bearer {token}"]


EFFECTS: dict[str, tuple[Prepare | None, Check]] = {
    "api_clients/create_client": (
        None,
        lambda api, r: (
            [c["client_id"] for c in api.get("/api-clients").body["items"]] == [_body(r)["client_id"]]
            or _fail("the client is not listed")
        ),
    ),
    "api_clients/list_clients": (
        _client_created,
        lambda api, r: [c["name"] for c in _body(r)["items"]] == ["Shop"] or _fail("not listed"),
    ),
    "authorizer/request": (
        _signed_id_token,
        lambda api, r: (
            (
                r["policyDocument"]["Statement"][0]["Effect"] == "Allow"
                and (r["context"]["principal"], r["context"]["org_id"], r["context"]["roles"])
                == ("person", "acme", "admin")
            )
            or _fail("the person was not let in")
        ),
    ),
    "approve_goodwill/approve_with_changed_points": (
        None,
        lambda api, r: _expect(
            _request(api, REQ1), status="APPROVED", approved_points=1500, decided_by="carol", points=2000
        ),
    ),
    "approve_goodwill/get_request": (
        None,
        lambda api, r: _expect(_body(r), request_id=REQ1, status="PENDING_APPROVAL"),
    ),
    "approve_goodwill/list_pending": (
        None,
        lambda api, r: [i["request_id"] for i in _body(r)["items"]] == [REQ2, REQ1] or _fail("not both, newest first"),
    ),
    "approve_goodwill/reject": (
        None,
        lambda api, r: _expect(_request(api, REQ2), status="REJECTED", decided_by="carol"),
    ),
    "bulk_csv_import/record_failure": (
        None,
        lambda api, r: _expect(api.get(f"/goodwill/bulk-imports/{IMPORT2}").body, status="FAILED"),
    ),
    "bulk_csv_import/upload": (None, _check_upload),
    "bulk_imports_api/create_import": (
        None,
        lambda api, r: _expect(
            api.get(f"/goodwill/bulk-imports/{_body(r)['import_id']}").body, status="AWAITING_UPLOAD", mode="ADD"
        ),
    ),
    "bulk_imports_api/get_import": (
        None,
        lambda api, r: _expect(_body(r), import_id=IMPORT1, status="AWAITING_UPLOAD"),
    ),
    "coupon_series/get_series": (None, lambda api, r: _expect(_body(r), series_id="winter-10", available=2)),
    "coupon_series/list_series": (
        None,
        lambda api, r: [s["series_id"] for s in _body(r)["items"]] == ["winter-10"] or _fail("not listed"),
    ),
    "coupon_series/put_generated_series": (
        None,
        lambda api, r: _expect(api.get("/coupon-series/sorry-5").body, kind="GENERATED", available=None),
    ),
    "coupon_series/put_pool_series": (
        None,
        lambda api, r: _expect(api.get("/coupon-series/winter-10").body, name="Winter 10% off", available=5),
    ),
    "customers/get_customer": (
        None,
        lambda api, r: _expect(_body(r)["balances"]["default"], current=500, lifetime=500),
    ),
    "customers/list_coupons": (
        _coupon_issued,
        lambda api, r: [c["code"] for c in _body(r)["items"]] == ["SEED-1"] or _fail("the coupon is not listed"),
    ),
    "customers/list_transactions": (
        None,
        lambda api, r: [t["points"] for t in _body(r)["items"]] == [500] or _fail("the ledger is not listed"),
    ),
    "customers/put_customer": (
        None,
        lambda api, r: _expect(api.get("/customers/cust-001").body, name="Ada Lovelace", opted_out_channels=["PUSH"]),
    ),
    "issue_coupon/coupon": (
        None,
        lambda api, r: _expect(
            _request(api, _body(r)["request"]["request_id"]), type="COUPON", status="PENDING_APPROVAL"
        ),
    ),
    "issue_points/credit": (None, lambda api, r: _expect(api.balance("cust-001"), current=750, lifetime=750)),
    "issue_points/debit": (None, lambda api, r: _expect(api.balance("cust-001"), current=450, lifetime=500)),
    "notify/plan": (_fulfil_req1, lambda api, r: r["count"] > 0 or _fail(f"nothing planned: {r}")),
    "notify/send_attempt": (_fulfil_req1, lambda api, r: _check_attempt(api, r, "SENT")),
    "notify/fail_attempt": (_fulfil_req1, lambda api, r: _check_attempt(api, r, "FAILED")),
    "expire_points/plan": (None, lambda api, r: len(r["shards"]) == 16 or _fail(f"not every shard: {r}")),
    # Nothing of the seeded world is due in shard 3: the shard is walked to its end.
    "expire_points/settle_shard": (None, lambda api, r: r.get("done") is True or _fail(f"not settled: {r}")),
    "org_config/get_config": (None, lambda api, r: _body(r)["programs"] == ["default"] or _fail("no programs")),
    "org_config/list_reasons": (
        None,
        lambda api, r: (
            _body(r)["items"][0] == {"code": "SERVICE_RECOVERY", "label": "Service recovery"}
            or _fail(f"not the default reasons: {_body(r)}")
        ),
    ),
    "org_config/put_config": (
        None,
        lambda api, r: _expect(api.get("/config").body["points"], approval_threshold=1000),
    ),
    "reconcile_requests/scheduled": (
        None,
        lambda api, r: r["outcomes"] == {"started": 2} or _fail(f"the stranded requests were not started: {r}"),
    ),
    "request_workflow/expire": (None, lambda api, r: _expect(_request(api, REQ2), status="EXPIRED")),
    "request_workflow/fulfil": (
        _approve_req1,
        lambda api, r: (
            _expect(_request(api, REQ1), status="FULFILLED") or _expect(api.balance("cust-001"), current=2500)
        ),
    ),
    "request_workflow/record_failure": (
        _approve_req1,
        lambda api, r: _expect(_request(api, REQ1), status="FAILED") or _expect(api.balance("cust-001"), current=500),
    ),
    "stream_dispatch/pending_request_inserted": (None, _check_pending_inserted),
    "stream_dispatch/request_decided": (_waiting_req1, _check_decided),
    "stream_events/ledger_entry_inserted": (_bus_listening, _check_ledger_event),
    "webhooks/put_webhook": (
        None,
        lambda api, r: [w["webhook_id"] for w in api.get("/webhooks").body["items"]] == ["crm"] or _fail("not listed"),
    ),
    "webhooks/list_webhooks": (
        _webhook_put,
        lambda api, r: [w["webhook_id"] for w in _body(r)["items"]] == ["crm"] or _fail("not listed"),
    ),
    # The seeded org has no webhook: the event is taken off the queue, nothing is delivered.
    "webhook_delivery/points_changed_event": (None, lambda api, r: _expect(r, batchItemFailures=[])),
    # The seeded grant of 500 points, counted from the stream, under its actor.
    "reports/report_by_actor": (_settled, _check_report),
}


def _expect(found: dict[str, Any], **wanted: Any) -> None:
    assert {k: found.get(k) for k in wanted} == wanted, found


def _fail(message: str) -> None:
    raise AssertionError(message)

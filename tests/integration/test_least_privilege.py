"""Least privilege, proven: every AWS call a handler makes is allowed by the statements
template.yaml gives that function, and every permission granted is used by some call.

The tour below drives every function through its flows (the API, the table stream, the three
workflows, an S3 upload, a redelivered upload), while a hook on botocore records, per function,
the IAM requests each call or presigned URL makes (tests/iam.py). A call the template does not
allow fails the test (it would be AccessDenied on AWS); so does a grant no call used (a permission
the code does not need). The state machines, whose calls moto makes, are checked against their
definitions: granted exactly the actions of their tasks.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from botocore.client import BaseClient

from goodwill.approvals import dispatch
from goodwill.clients import registry
from goodwill.services import config as config_service
from local.aws.stack import Stack, definition
from local.aws.template import resources
from tests.iam import Grants, Request, Statement, mutations, required, wider_than_used
from tests.integration.test_bulk_imports import HEADER, create_import, wait_until_done
from tests.integration.test_client_tokens import bearer, token_of
from tests.support import ADMIN, AGENT, APPROVER, Api

# Granted for a path the tour cannot reach in moto, each with the reason it stays.
UNREACHED = {
    # Aborting a multipart report upload happens only when assembling a report over 8 MiB fails.
    ("BulkCsvImportFunction", "s3:AbortMultipartUpload"),
    # Releasing a webhook fan-out's claim happens only when SQS refuses the delivery message
    # (test_webhook_delivery injects that fault).
    ("WebhookDeliveryFunction", "dynamodb:DeleteItem"),
}


@dataclass
class Recorder:
    """The IAM requests made by each function's handler (in any thread), by logical id."""

    calls: dict[str, set[Request]] = field(default_factory=dict)
    _local: threading.local = field(default_factory=threading.local)

    def current(self) -> str | None:
        running: list[str] = getattr(self._local, "running", [])
        return running[-1] if running else None

    def wrap(self, logical_id: str, invoke: Callable[[Any], Any]) -> Callable[[Any], Any]:
        def recorded(event: Any) -> Any:
            running = self._local.__dict__.setdefault("running", [])
            running.append(logical_id)
            # Each function is its own process on AWS: nothing it reads may come from another's cache.
            config_service.clear_cache()
            registry.clear_cache()
            try:
                return invoke(event)
            finally:
                running.pop()

        return recorded

    def record(self, service: str, operation: str, params: dict[str, Any]) -> None:
        function = self.current()
        if function is not None:
            self.calls.setdefault(function, set()).update(required(service, operation, params))


@pytest.fixture
def recorder(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorder]:
    found = Recorder()
    for logical_id, function in stack.functions.by_id.items():
        monkeypatch.setattr(function, "invoke", found.wrap(logical_id, function.invoke))
    original = BaseClient._emit_api_params

    # Every API call and every presigned URL passes here with its final parameters.
    def emit(self: BaseClient, api_params: Any, operation_model: Any, context: Any) -> Any:
        params = original(self, api_params, operation_model, context)
        found.record(operation_model.service_model.signing_name, operation_model.name, params)
        return params

    monkeypatch.setattr(BaseClient, "_emit_api_params", emit)

    # A handler's own worker threads (parallel PutEvents calls, webhook deliveries) act as it.
    submit = ThreadPoolExecutor.submit

    def submit_as_caller(self: ThreadPoolExecutor, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        caller = found.current()
        if caller is None:
            return submit(self, fn, *args, **kwargs)

        def run(*a: Any, **kw: Any) -> Any:
            running = found._local.__dict__.setdefault("running", [])
            running.append(caller)
            try:
                return fn(*a, **kw)
            finally:
                running.pop()

        return submit(self, run, *args, **kwargs)

    monkeypatch.setattr(ThreadPoolExecutor, "submit", submit_as_caller)
    yield found


def _tour(api: Api, stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every function, through the flows that reach each of its permissions."""
    assert api.put("/config", {"points": {"approval_threshold": 100}}).status in (200, 201)
    assert api.get("/config").status == 200
    api.customer("c-1")
    api.customer("c-1", email="ada@example.com")  # moves the e-mail claim (a Delete in the transaction)
    api.customer("c-2", phone=None)
    assert api.grant("c-2", 20).status == 201  # its notification goes by e-mail (the function sends it)
    assert api.grant("c-1", 20, key="k-1").status == 201
    assert api.grant("c-1", 20, key="k-1").status == 201  # the idempotent replay

    # Approval workflow: approve (task token), reject, then the notification workflow.
    approved = api.grant("c-1", 500).body["request"]["request_id"]
    rejected = api.grant("c-2", 500).body["request"]["request_id"]
    stack.settle()
    assert api.post(f"/goodwill/requests/{approved}/approve", {}, as_=APPROVER).status == 200
    assert api.post(f"/goodwill/requests/{rejected}/reject", {"comment": "no"}, as_=APPROVER).status == 200
    batch = {
        "decision": "REJECT",
        "request_ids": [api.grant("c-2", 500).body["request"]["request_id"]],
        "comment": "no",
    }
    assert api.post("/goodwill/request-decisions", batch, as_=APPROVER).body["results"][0]["status"] == 200
    stack.settle()
    assert api.get(f"/goodwill/requests/{approved}", as_=AGENT).body["status"] == "FULFILLED"
    for query in ({}, {"status": "REJECTED"}, {"customer_id": "c-1"}):
        assert api.get("/goodwill/requests", as_=AGENT, query=query).status == 200

    # Coupons: a pool (written in batches), renamed, listed; one coupon through approval, one at once.
    series = {"name": "10% off", "discount": {"type": "PERCENT", "value": 10}, "valid_days": 30}
    assert api.put("/coupon-series/pool", {**series, "codes": ["A-1", "A-2"]}).status == 201
    assert api.put("/coupon-series/pool", {**series, "name": "renamed"}).status == 200
    assert api.get("/coupon-series/pool", as_=AGENT).status == 200
    assert api.get("/coupon-series", as_=AGENT).status == 200
    coupon = {"customer_id": "c-1", "series_id": "pool", "reason": "SERVICE_RECOVERY"}
    pending = api.post("/goodwill/coupons", coupon, as_=AGENT).body["request"]["request_id"]
    stack.settle()
    assert api.post(f"/goodwill/requests/{pending}/approve", {}, as_=APPROVER).status == 200
    stack.settle()
    api.put("/config", {"points": {"approval_threshold": 100}, "coupons": {"auto_approve": True}})
    assert api.post("/goodwill/coupons", coupon, as_=AGENT).status == 201
    for path in ("/customers/c-1", "/customers/c-1/transactions", "/customers/c-1/coupons"):
        assert api.get(path, as_=AGENT).status == 200
    # Finding customers: by exact id (GetItem), by name (Query, then the profiles in one BatchGetItem).
    for q in ("c-1", "ada"):
        assert api.get("/customers", as_=AGENT, query={"q": q}).body["items"]

    # API clients: a Cognito app client and its registry items; a call within its scope; revoked.
    client = api.post("/api-clients", {"name": "shop", "scopes": ["goodwill/customers.read"]}).body
    cid = client["client_id"]
    as_client = {"sub": cid, "client_id": cid, "token_use": "access", "scope": "goodwill/customers.read"}
    assert api.get("/customers/c-1", as_=as_client).status == 200
    # The API's Lambda authorizer: the client's token verified, its registry entry read.
    assert api.get("/customers/c-1", as_=None, headers=bearer(token_of(stack, client))).status == 200
    # Every function with routes open to clients reads the registry and counts the client's rate.
    points = {"customer_id": "c-1", "program_id": "default", "points": 1, "reason": "REWARD"}
    for path, body in (("/goodwill/points", points), ("/goodwill/coupons", coupon), ("/goodwill/requests", None)):
        assert api.call("POST" if body else "GET", path, body, as_=as_client).status == 403
    assert api.get("/api-clients").status == 200
    assert api.call("DELETE", f"/api-clients/{cid}").status == 200

    # A request nobody decides: the approval wait times out (after a second, here) and the
    # workflow expires it.
    real_input = dispatch.approval_input
    monkeypatch.setattr(dispatch, "approval_input", lambda record: {**real_input(record), "timeout_seconds": 1})
    expiring = api.grant("c-1", 500).body["request"]["request_id"]
    stack.settle()
    monkeypatch.setattr(dispatch, "approval_input", real_input)
    stack.wait_for(stack.ref("RequestStateMachine").replace(":stateMachine:", ":execution:") + f":req-{expiring}")
    assert api.get(f"/goodwill/requests/{expiring}", as_=AGENT).body["status"] == "EXPIRED"

    # Bulk import: the presigned upload, the S3 event, the workflow's tasks, the report's download.
    created = create_import(api, as_=ADMIN)
    body = (HEADER + "c-1,,5,,,,\n,ada@example.com,5,,,,\nc-9,,5,,,,\n").encode()
    assert requests.put(created["upload_url"], data=body, headers=created["upload_headers"], timeout=10).ok
    assert wait_until_done(stack, "acme", created["import_id"])["status"] == "COMPLETED_WITH_ERRORS"
    view = api.get(f"/goodwill/bulk-imports/{created['import_id']}").body
    assert requests.get(view["report_url"], timeout=10).ok
    stack.functions.by_id["BulkCsvImportFunction"].invoke(
        {"action": "fail", "org_id": "acme", "import_id": created["import_id"], "attempt": 9, "error": {}}
    )
    _redelivered_upload_after_a_crash(api, stack)
    _import_revert(api, stack, monkeypatch, created["import_id"])
    _stranded_requests(api, stack, monkeypatch)
    _expiry_run(stack)
    _webhooks(api, stack, monkeypatch)


def _import_revert(api: Api, stack: Stack, monkeypatch: pytest.MonkeyPatch, import_id: str) -> None:
    """A revert whose start was lost (the API died after the record moved), resumed by asking
    again (DescribeExecution, StartExecution), then run by the import function (the import report)."""
    from goodwill.reverts import start
    from tests.integration.test_import_revert import wait_reverted

    with monkeypatch.context() as patched:
        patched.setattr(start, "_start_execution", lambda *args: None)
        assert api.post(f"/goodwill/bulk-imports/{import_id}/revert", {}).status == 202
    assert api.post(f"/goodwill/bulk-imports/{import_id}/revert", {}).status == 202
    assert wait_reverted(stack, import_id)["status"] == "REVERTED"


def _stranded_requests(api: Api, stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two requests whose workflow never started (every start failed), one of them approved: the
    scheduled reconciler starts the waiting one's workflow and fulfils the approved one itself."""
    from goodwill import aws
    from goodwill.approvals import reconcile
    from tests.integration.test_faults import failing

    with failing(aws.stepfunctions(), "StartExecution", {"Code": "ServiceUnavailable", "Message": "down"}):
        waiting, approved = (api.grant("c-1", 500).body["request"]["request_id"] for _ in range(2))
        stack.settle()
        assert api.post(f"/goodwill/requests/{approved}/approve", {}, as_=APPROVER).status == 200
        stack.settle()
    monkeypatch.setattr(reconcile, "GRACE", reconcile.timedelta(0))
    outcomes = stack.functions.by_id["RequestReconcilerFunction"].invoke({"source": "goodwill.schedule"})
    assert outcomes["outcomes"] == {"started": 1, "fulfilled": 1}, outcomes
    stack.settle()
    assert api.get(f"/goodwill/requests/{approved}", as_=AGENT).body["status"] == "FULFILLED"
    assert api.post(f"/goodwill/requests/{waiting}/reject", {"comment": "no"}, as_=APPROVER).status == 200
    stack.settle()  # the started workflow took the decision and ended


def _expiry_run(stack: Stack) -> None:
    """The expiry schedule's run: a balance with a lot past its time, settled by the state machine."""
    from goodwill.lots.model import Lot, to_item
    from goodwill.repositories import keys, table

    past = "2026-01-01T00:00:00.000Z"
    item = {
        **keys.balance("acme", "c-2", "default"),
        **keys.due_index("acme", "c-2", "default", past),
        "customer_id": "c-2",
        "program_id": "default",
        "current": 10,
        "lifetime": 10,
        "version": 1,
        "lots": to_item([Lot(past, "01JLOT0000000000000000000", 10)]),
    }
    stack.client("dynamodb").put_item(TableName=stack.ref("GoodwillTable"), Item=table.serialize(item))
    sfn = stack.client("stepfunctions")
    run = sfn.start_execution(stateMachineArn=stack.ref("ExpirePointsStateMachine"), name="tour", input="{}")
    assert stack.wait_for(run["executionArn"], timeout=120)["status"] == "SUCCEEDED"


def _webhooks(api: Api, stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    """Webhooks configured, an event delivered, one retried and dead-lettered, one deleted."""
    from datetime import timedelta

    from goodwill import aws
    from goodwill.webhooks import delivery
    from local.devserver.webhook_receiver import Receiver
    from tests.integration.test_webhooks import _end_back_off

    monkeypatch.setenv("GOODWILL_LOCAL_WEBHOOKS", "true")
    aws.reset_clients()
    stack.settle()  # the events of the tour so far are out before any webhook exists
    good, bad = Receiver().start(), Receiver(status=503).start()
    try:
        for name, receiver in (("good", good), ("bad", bad)):
            body = {"url": receiver.url, "event_types": ["Points Changed"]}
            assert api.put(f"/webhooks/{name}", body).status == 201
        assert api.get("/webhooks").status == 200
        assert api.get("/reports/goodwill", query={"group_by": "reason"}).body["items"]
        assert api.grant("c-2", 5).status == 201
        stack.settle()  # delivered to good; bad backs off (its visibility changed)
        monkeypatch.setattr(delivery, "RETRY_FOR", timedelta(0))
        assert _end_back_off(stack) == 1
        stack.pump_queues()  # bad again, 24 h later: dead-lettered
        assert api.get("/webhooks/bad").body["last_attempts"][0]["outcome"] == "DEAD_LETTERED"
        assert api.call("DELETE", "/webhooks/bad").status == 200
    finally:
        good.stop()
        bad.stop()


def _redelivered_upload_after_a_crash(api: Api, stack: Stack) -> None:
    """The import function died between claiming an upload and starting its workflow; S3 delivers
    the event again, and the function asks Step Functions whether the execution exists."""
    import moto.s3.notifications as s3_notifications

    import_id = create_import(api)["import_id"]
    deferred: list[tuple[Any, ...]] = []
    notify = s3_notifications._invoke_awslambda
    s3_notifications._invoke_awslambda = lambda *args: deferred.append(args)
    try:
        key = f"imports/acme/{import_id}.csv"
        stack.client("s3").put_object(Bucket=stack.ref("ImportBucket"), Key=key, Body=HEADER + "c-1,,5,,,,\n")
    finally:
        s3_notifications._invoke_awslambda = notify
    ((account, event, function_arn, region),) = deferred
    stack.client("dynamodb").update_item(
        TableName=stack.ref("GoodwillTable"),
        Key={"PK": {"S": f"ORG#acme#IMPORT#{import_id}"}, "SK": {"S": "IMPORT"}},
        UpdateExpression="SET #s = :s, etag = :e, attempt = :a",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={
            ":s": {"S": "RUNNING"},
            ":e": {"S": event["Records"][0]["s3"]["object"]["eTag"]},
            ":a": {"N": "1"},
        },
    )
    notify(account, event, function_arn, region)
    assert wait_until_done(stack, "acme", import_id)["status"] == "COMPLETED"


def test_policies_allow_every_call_and_grant_nothing_unused(
    api: Api, stack: Stack, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    _tour(api, stack, monkeypatch)
    grants = {fn: Grants.of(fn, stack.resolver) for fn in resources("AWS::Serverless::Function")}
    assert set(recorder.calls) == set(grants), "the tour must run every function of the template"

    denied = {
        (fn, r.action, r.resource) for fn, calls in recorder.calls.items() for r in calls if not grants[fn].allowing(r)
    }
    unused = set()
    for fn, granted in grants.items():
        used = {granted.allowing(r) for r in recorder.calls[fn]}
        unused |= {(fn, p) for p in granted.patterns() - used if (fn, p.split(" ")[0]) not in UNREACHED}

    assert not denied, f"calls template.yaml does not allow (AccessDenied on AWS): {sorted(denied)}"
    assert not unused, f"granted in template.yaml but used by no call of the function: {sorted(unused)}"
    wider = {(fn, w) for fn, granted in grants.items() for w in wider_than_used(granted, recorder.calls[fn])}
    assert not wider, f"granted wider than any call needs (another resource, or outside a condition): {sorted(wider)}"

    # The check itself: widening any statement's resource to "*", or dropping its condition, fails it.
    for fn, granted in grants.items():
        for i, statement in enumerate(granted.statements):
            for mutated in mutations(statement):
                widened = Grants([*granted.statements[:i], mutated, *granted.statements[i + 1 :]])
                assert wider_than_used(widened, recorder.calls[fn]), (fn, mutated, "went unnoticed")


# ---------------------------------------------------------------------------------- state machines

# SAM policy templates the state machines use, by the one action each grants.
_SAM_POLICY_ACTIONS = {"LambdaInvokePolicy": "lambda:InvokeFunction", "SNSPublishMessagePolicy": "sns:Publish"}
# A Distributed Map runs its items as child executions of its own state machine.
_DISTRIBUTED_MAP = {"states:StartExecution", "states:DescribeExecution", "states:StopExecution"}


def _asl_actions(states: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for state in states.values():
        resource = state.get("Resource") or state.get("ItemReader", {}).get("Resource") or ""
        if resource.startswith("arn:aws:states:::"):
            service, _, api = resource.removeprefix("arn:aws:states:::").removeprefix("aws-sdk:").partition(":")
            operation = api.split(".")[0]
            found.add(
                "lambda:InvokeFunction" if service == "lambda" else f"{service}:{operation[0].upper()}{operation[1:]}"
            )
        if state.get("ItemProcessor", {}).get("ProcessorConfig", {}).get("Mode") == "DISTRIBUTED":
            found |= _DISTRIBUTED_MAP
        for inner in [state.get("ItemProcessor"), state.get("Iterator"), *state.get("Branches", [])]:
            if inner:
                found |= _asl_actions(inner["States"])
    return found


@pytest.mark.parametrize("logical_id", sorted(resources("AWS::Serverless::StateMachine")))
def test_state_machine_is_granted_exactly_the_actions_of_its_tasks(stack: Stack, logical_id: str) -> None:
    granted: set[str] = set()
    for policy in resources("AWS::Serverless::StateMachine")[logical_id]["Properties"]["Policies"]:
        ((name, value),) = policy.items()
        if name == "Statement":
            granted |= {a for s in value for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
        else:
            granted.add(_SAM_POLICY_ACTIONS[name])
    assert granted == _asl_actions(json.loads(definition(stack.resolver, logical_id))["States"])


# ---------------------------------------------------------------------------------- the checker itself


def test_checker_denies_what_no_statement_names() -> None:
    table = "arn:aws:dynamodb:us-east-1:123456789012:table/t"
    grants = Grants([Statement(("dynamodb:GetItem",), (table,), ())])
    assert grants.allowing(Request("dynamodb:getitem", table))
    assert not grants.allowing(Request("dynamodb:PutItem", table))
    assert not grants.allowing(Request("dynamodb:Query", f"{table}/index/GSI1"))
    assert not grants.allowing(Request("dynamodb:GetItem", table + "2"))


def test_checker_maps_transactions_item_by_item_and_send_task_to_star() -> None:
    params = {"TransactItems": [{"Put": {"TableName": "t"}}, {"ConditionCheck": {"TableName": "t"}}]}
    assert [r.action for r in required("dynamodb", "TransactWriteItems", params)] == [
        "dynamodb:PutItem",
        "dynamodb:ConditionCheckItem",
    ]
    state_machine = "arn:aws:states:us-east-1:123456789012:stateMachine:m"
    scoped = Grants([Statement(("states:SendTaskSuccess",), (state_machine,), ())])
    (send,) = required("states", "SendTaskSuccess", {"taskToken": "t", "output": "{}"})
    assert not scoped.allowing(send)


def test_checker_applies_conditions() -> None:
    bucket = "arn:aws:s3:::b"
    grants = Grants([Statement(("s3:ListBucket",), (bucket,), (("StringLike", "s3:prefix", ("work/*",)),))])
    assert grants.allowing(required("s3", "ListObjectsV2", {"Bucket": "b", "Prefix": "work/acme/"})[0])
    assert not grants.allowing(required("s3", "ListObjectsV2", {"Bucket": "b", "Prefix": "reports/"})[0])


def test_checker_flags_a_resource_widened_to_star_and_a_dropped_condition() -> None:
    table = "arn:aws:dynamodb:us-east-1:123456789012:table/t"
    bucket = "arn:aws:s3:::b"
    calls = {
        Request("dynamodb:GetItem", table),
        Request("s3:ListBucket", bucket, (("s3:prefix", "work/acme/"),)),
        Request("s3:GetObject", f"{bucket}/imports/acme/x.csv"),
    }
    narrow = [
        Statement(("dynamodb:GetItem",), (table,), ()),
        Statement(("s3:ListBucket",), (bucket,), (("StringLike", "s3:prefix", ("work/*",)),)),
        Statement(("s3:GetObject",), (f"{bucket}/imports/*",), ()),
    ]
    assert not wider_than_used(Grants(narrow), calls)
    assert wider_than_used(Grants([Statement(("dynamodb:GetItem",), ("*",), ()), *narrow[1:]]), calls)
    assert wider_than_used(Grants([narrow[0], Statement(("s3:ListBucket",), (bucket,), ()), narrow[2]]), calls)
    assert wider_than_used(Grants([*narrow[:2], Statement(("s3:GetObject",), (f"{bucket}/*",), ())]), calls)

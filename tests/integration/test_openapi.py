"""docs/openapi.json: generated from the resolvers, committed, complete, and true to the handlers."""

from __future__ import annotations

import difflib
import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from local.aws.template import resources
from local.tools import openapi
from tests.support import AGENT, APPROVER, Api, Reply

ERROR_STATUSES = {"401", "403", "413", "422", "429", "503"}
ERROR_REF = "#/components/schemas/ErrorResponse"


@pytest.fixture(scope="module")
def committed() -> dict[str, Any]:
    return json.loads(openapi.DOCUMENT.read_text())  # type: ignore[no-any-return]


def operations(doc: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(m.upper(), p): op for p, item in doc["paths"].items() for m, op in item.items()}


def test_committed_document_is_what_the_code_generates() -> None:
    # Generated in the test, after the suite's environment is set: a first import of the layer
    # fixes Powertools' settings for the whole process, as a Lambda cold start does.
    fresh, stored = openapi.render(openapi.document()), openapi.DOCUMENT.read_text()
    if fresh != stored:
        diff = "".join(list(difflib.unified_diff(stored.splitlines(True), fresh.splitlines(True), n=1))[:60])
        pytest.fail(f"docs/openapi.json is stale; regenerate it with:\n    {openapi.REGENERATE}\n{diff}")


def test_document_is_valid_openapi_3_1(committed: dict[str, Any]) -> None:
    validate(committed)
    assert committed["openapi"] == "3.1.0"


def test_every_api_event_of_the_template_is_documented_once(committed: dict[str, Any]) -> None:
    wired = {
        (event["Properties"]["Method"].upper(), event["Properties"]["Path"])
        for res in resources("AWS::Serverless::Function").values()
        for event in res["Properties"].get("Events", {}).values()
        if event["Type"] == "Api"
    }
    assert set(operations(committed)) == wired
    assert len({op["operationId"] for op in operations(committed).values()}) == len(wired)


def test_every_route_is_behind_the_cognito_authorizer(committed: dict[str, Any]) -> None:
    assert committed["security"] == [{"CognitoAuthorizer": []}]
    scheme = committed["components"]["securitySchemes"]["CognitoAuthorizer"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "Authorization")
    # None opts out: every operation keeps the people's scheme first (API clients may be added as an
    # alternative with the operation's scope: tests/integration/test_api_clients.py).
    assert not [key for key, op in operations(committed).items() if op["security"][0] != {"CognitoAuthorizer": []}]


@pytest.mark.parametrize("key", sorted(operations(json.loads(openapi.DOCUMENT.read_text()))), ids=" ".join)
def test_every_operation_documents_success_and_errors_in_the_error_shape(
    committed: dict[str, Any], key: tuple[str, str]
) -> None:
    op = operations(committed)[key]
    responses = op["responses"]
    assert op.get("summary") and op.get("tags"), "summary= and tags= on the route"
    assert any(code.startswith("2") for code in responses)
    assert set(responses) >= ERROR_STATUSES, "declare responses=route_responses(...) on the route"
    if "requestBody" in op:
        assert {"400", "415"} <= set(responses)
    if "{" in key[1]:
        assert "404" in responses
    for code, response in responses.items():
        schema = response["content"]["application/json"]["schema"]
        if code.startswith(("4", "5")):
            assert schema == {"$ref": ERROR_REF}, f"{code} must be the error shape"
        else:
            assert schema.get("$ref", "").startswith("#/components/schemas/"), f"{code} needs a response model"


# ---------------------------------------------------------------- the handlers answer as documented
class Conformance:
    """Calls routes in-process and checks every answer against the committed document."""

    def __init__(self, api: Api, doc: dict[str, Any]) -> None:
        self.api, self.doc = api, doc
        self.seen: set[tuple[str, str, str]] = set()

    def call(self, method: str, template: str, path: str, body: Any = None, **kw: Any) -> Reply:
        reply = self.api.call(method, path, body, **kw)
        responses = self.doc["paths"][template][method.lower()]["responses"]
        code = str(reply.status)
        assert code in responses, f"{method} {template} answered {code}, undocumented: {reply.body}"
        schema = {**responses[code]["content"]["application/json"]["schema"], "components": self.doc["components"]}
        validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
        problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(reply.body)]
        assert not problems, f"{method} {template} {code} does not match its schema: {problems}"
        self.seen.add((method, template, code))
        return reply

    def missing(self) -> set[tuple[str, str, str]]:
        documented = {
            (m.upper(), p, code)
            for p, item in self.doc["paths"].items()
            for m, op in item.items()
            for code in op["responses"]
            if code.startswith("2")
        }
        return documented - self.seen


def test_every_documented_success_matches_what_the_handlers_return(api: Api, committed: dict[str, Any]) -> None:
    c = Conformance(api, committed)
    # Configuration and customers
    c.call("GET", "/config", "/config")
    c.call("PUT", "/config", "/config", {"points": {"approval_threshold": 1000}})
    c.call("GET", "/config/reasons", "/config/reasons", as_=AGENT)
    customer = {"name": "Ada", "email": "ada@example.com", "phone": "+15555550100", "opted_out_channels": ["PUSH"]}
    c.call("PUT", "/customers/{customer_id}", "/customers/c-1", customer)
    c.call("PUT", "/customers/{customer_id}", "/customers/c-1", customer)
    c.call("PUT", "/customers/{customer_id}", "/customers/c-2", {})
    # Points: auto-approved, pending, approved (with changed points), rejected
    grant = {"customer_id": "c-1", "program_id": "default", "reason": "LATE_DELIVERY"}
    keyed = {"headers": {"Idempotency-Key": "k-1"}, "as_": AGENT}
    c.call("POST", "/goodwill/points", "/goodwill/points", {**grant, "points": 300, "comment": "late"}, **keyed)
    small = c.call("POST", "/goodwill/points", "/goodwill/points", {**grant, "points": 300, "comment": "late"}, **keyed)
    big = {**grant, "points": 5000, "expires_at": "2099-01-01T00:00:00Z", "affects_tier": False}
    first = c.call("POST", "/goodwill/points", "/goodwill/points", big, as_=AGENT).body["request"]["request_id"]
    second = c.call("POST", "/goodwill/points", "/goodwill/points", big, as_=AGENT).body["request"]["request_id"]
    approve = "/goodwill/requests/{request_id}/approve"
    c.call("POST", approve, f"/goodwill/requests/{first}/approve", {"points": 4000, "comment": "ok"}, as_=APPROVER)
    reject = "/goodwill/requests/{request_id}/reject"
    c.call("POST", reject, f"/goodwill/requests/{second}/reject", {"comment": "too much"}, as_=APPROVER)
    third = c.call("POST", "/goodwill/points", "/goodwill/points", big, as_=AGENT).body["request"]["request_id"]
    batch = {"decision": "APPROVE", "request_ids": [third, second, "NOPE"]}
    c.call("POST", "/goodwill/request-decisions", "/goodwill/request-decisions", batch, as_=APPROVER)
    # Coupon series: a pool and a generated series; coupons pending, then auto-approved
    pool = {"name": "Pool", "discount": {"type": "PERCENT", "value": 10}, "valid_days": 30, "codes": ["AAA-1"]}
    c.call("PUT", "/coupon-series/{series_id}", "/coupon-series/pool", pool)
    c.call("PUT", "/coupon-series/{series_id}", "/coupon-series/pool", {**pool, "codes": ["AAA-2", "AAA-3"]})
    generated = {"name": "Gen", "description": "made up", "discount": {"type": "AMOUNT", "value": 5}, "valid_days": 7}
    c.call("PUT", "/coupon-series/{series_id}", "/coupon-series/gen", generated)
    c.call("GET", "/coupon-series", "/coupon-series")
    c.call("GET", "/coupon-series/{series_id}", "/coupon-series/pool")
    coupon = {"customer_id": "c-1", "series_id": "pool", "reason": "REWARD", "customer_message": "sorry"}
    pending = c.call("POST", "/goodwill/coupons", "/goodwill/coupons", coupon, as_=AGENT).body["request"]
    c.call("POST", approve, f"/goodwill/requests/{pending['request_id']}/approve", {}, as_=APPROVER)
    c.call("PUT", "/config", "/config", {"coupons": {"auto_approve": True}})
    c.call("POST", "/goodwill/coupons", "/goodwill/coupons", {**coupon, "series_id": "gen"}, as_=AGENT)
    # The workflows fulfil the approved requests and notify the customer
    api.stack.settle()
    c.call("GET", "/goodwill/requests", "/goodwill/requests", as_=AGENT)
    c.call("GET", "/goodwill/requests", "/goodwill/requests", as_=AGENT, query={"status": "FULFILLED", "limit": 1})
    c.call("GET", "/goodwill/requests/{request_id}", f"/goodwill/requests/{first}", as_=AGENT)
    # Reversals: applied at once (201), and one that waits for an approver (202)
    reverse = "/customers/{customer_id}/transactions/{transaction_id}/reverse"
    undo = {"reason": "CORRECTION", "comment": "granted by mistake"}
    c.call("POST", reverse, f"/customers/c-1/transactions/{small.body['transaction']['transaction_id']}/reverse", undo)
    approved = api.get(f"/goodwill/requests/{first}").body["transaction_id"]
    assert api.put("/config", {"points": {"auto_approve": False}, "coupons": {"auto_approve": True}}).status == 200
    waits = c.call("POST", reverse, f"/customers/c-1/transactions/{approved}/reverse", undo, as_=AGENT)
    assert waits.status == 202, waits.body
    c.call("GET", "/customers/{customer_id}", "/customers/c-1", as_=AGENT)
    c.call("GET", "/customers/{customer_id}/transactions", "/customers/c-1/transactions", as_=AGENT)
    c.call("GET", "/me/limits", "/me/limits", as_=AGENT)
    c.call("GET", "/reports/goodwill", "/reports/goodwill", query={"group_by": "actor"})
    hook = {"url": "https://93.184.215.14/hooks", "event_types": ["Points Changed"], "description": "CRM"}
    c.call("PUT", "/webhooks/{webhook_id}", "/webhooks/crm", hook)
    c.call("PUT", "/webhooks/{webhook_id}", "/webhooks/crm", {**hook, "enabled": False})
    c.call("GET", "/webhooks", "/webhooks")
    c.call("GET", "/webhooks/{webhook_id}", "/webhooks/crm")
    c.call("DELETE", "/webhooks/{webhook_id}", "/webhooks/crm")
    c.call("GET", "/customers/{customer_id}/coupons", "/customers/c-1/coupons", as_=AGENT)
    c.call("GET", "/customers", "/customers", as_=AGENT, query={"q": "ad"})
    if "/goodwill/bulk-imports" in committed["paths"]:
        created = c.call("POST", "/goodwill/bulk-imports", "/goodwill/bulk-imports", {"program_id": "default"})
        path = f"/goodwill/bulk-imports/{created.body['import_id']}"
        c.call("GET", "/goodwill/bulk-imports/{import_id}", path)
        # A finished import reverted (202), then read with its revert and revert report
        from tests.integration.test_bulk_imports import run_import
        from tests.integration.test_import_revert import wait_reverted

        done, _ = run_import(api, api.stack, "customer_id,points\nc-1,5\nc-2,x\n")
        revert = "/goodwill/bulk-imports/{import_id}/revert"
        c.call("POST", revert, f"/goodwill/bulk-imports/{done}/revert", {"comment": "wrong file"})
        wait_reverted(api.stack, done)
        c.call("GET", "/goodwill/bulk-imports/{import_id}", f"/goodwill/bulk-imports/{done}")
    client = {"name": "Shop", "scopes": ["goodwill/points.write"], "rate_limit_per_second": 10}
    made = c.call("POST", "/api-clients", "/api-clients", client).body
    c.call("GET", "/api-clients", "/api-clients")
    c.call("DELETE", "/api-clients/{client_id}", f"/api-clients/{made['client_id']}")
    assert not c.missing(), "documented successes this scenario never produced"


def test_errors_match_the_documented_error_shape(api: Api, committed: dict[str, Any]) -> None:
    c = Conformance(api, committed)
    api.customer("c-1")
    grant = {"customer_id": "c-1", "program_id": "default", "reason": "LATE_DELIVERY"}
    assert c.call("POST", "/goodwill/points", "/goodwill/points", {**grant, "points": -5}).status == 409
    assert c.call("POST", "/goodwill/points", "/goodwill/points", {**grant, "points": "5"}).status == 422
    assert c.call("POST", "/goodwill/points", "/goodwill/points", raw="{nope").status == 400
    assert c.call("GET", "/customers/{customer_id}", "/customers/nobody").status == 404
    assert c.call("PUT", "/config", "/config", {}, as_=AGENT).status == 403
    assert c.call("GET", "/config", "/config", as_=None).status == 401
    assert c.call("PUT", "/config", "/config", raw=json.dumps({"x": "y" * 70_000})).status == 413

"""Bad input: a clear 4xx naming the field, and nothing written."""

from __future__ import annotations

from typing import Any

import pytest

from local.aws.stack import Stack
from tests.support import ADMIN, AGENT, Api, claims, table_items

GOOD = {"customer_id": "c-1", "program_id": "default", "points": 10, "reason": "SERVICE_RECOVERY"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"points": 0}, "points"),
        ({"points": 1.5}, "points"),
        ({"points": "10"}, "points"),
        ({"points": True}, "points"),
        ({"points": 100_001}, "points"),
        ({"reason": "NOT_A_REASON"}, "reason"),
        ({"reason": "lower case"}, "reason"),
        ({"customer_id": ""}, "customer_id"),
        ({"customer_id": "a/b"}, "customer_id"),
        ({"customer_id": "x" * 65}, "customer_id"),
        ({"comment": "x" * 501}, "comment"),
        ({"customer_message": "x" * 301}, "customer_message"),
        ({"expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
        ({"expires_at": "next tuesday"}, "expires_at"),
        # Out of range once in UTC: near datetime.max / datetime.min (was a 500 OverflowError).
        ({"expires_at": "9999-12-31T23:00:00-05:00"}, "expires_at"),
        ({"expires_at": "9999-12-31T23:59:59.999999-00:01"}, "expires_at"),
        ({"expires_at": "0001-01-01T00:00:00+05:00"}, "expires_at"),
        ({"affects_tier": "yes"}, "affects_tier"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_grant_with_bad_field_is_422_naming_it_and_writes_nothing(
    api: Api, stack: Stack, change: dict[str, Any], field: str
) -> None:
    api.customer("c-1")
    before = table_items(stack)
    reply = api.post("/goodwill/points", {**GOOD, **change}, as_=AGENT)
    assert reply.status == 422, reply.body
    assert reply.error_code == "VALIDATION_ERROR"
    assert field in reply.fields()
    assert table_items(stack) == before


def test_grant_missing_fields_lists_each_of_them(api: Api) -> None:
    reply = api.post("/goodwill/points", {}, as_=AGENT)
    assert reply.status == 422
    assert {"customer_id", "program_id", "points", "reason"} <= reply.fields()


@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", '"text"', "null"])
def test_grant_with_malformed_body_is_400(api: Api, stack: Stack, raw: str) -> None:
    before = table_items(stack)
    reply = api.call("POST", "/goodwill/points", raw=raw, as_=AGENT)
    assert reply.status in (400, 422), reply.body
    assert reply.status == 400 or reply.error_code == "VALIDATION_ERROR"
    assert table_items(stack) == before


@pytest.mark.parametrize(
    ("method", "path", "raw"),
    [
        ("POST", "/goodwill/points", '{"customer_id": "c-1", "points": ' + "9" * 5000 + "}"),
        ("POST", "/goodwill/request-decisions", '{"decision": "APPROVE", "x": ' + "9" * 5000 + "}"),
        ("PUT", "/coupon-series/s-1", '{"name": "n", "valid_days": ' + "9" * 5000 + "}"),
        ("POST", "/goodwill/points", "[" * 30_000 + "]" * 30_000),  # under the 64 KiB bound
    ],
    ids=["points-long-int", "decisions-long-int", "series-long-int", "nested-arrays"],
)
def test_json_past_pythons_bounds_is_400_bad_request_not_500(
    api: Api, stack: Stack, method: str, path: str, raw: str
) -> None:
    before = table_items(stack)
    reply = api.call(method, path, raw=raw, as_=ADMIN)
    assert (reply.status, reply.error_code) == (400, "BAD_REQUEST"), reply.body
    assert table_items(stack) == before


def test_invalid_json_is_400_bad_request(api: Api) -> None:
    reply = api.call("POST", "/goodwill/points", raw="{not json", as_=AGENT)
    assert reply.status == 400
    assert reply.error_code == "BAD_REQUEST"


def test_grant_to_unknown_customer_is_404(api: Api) -> None:
    reply = api.grant("nobody", 10)
    assert reply.status == 404
    assert reply.error_code == "NOT_FOUND"


def test_grant_to_unknown_program_is_404(api: Api) -> None:
    api.customer("c-1")
    reply = api.grant("c-1", 10, program_id="vip")
    assert reply.status == 404


def test_debit_beyond_balance_is_409_and_writes_nothing(api: Api, stack: Stack) -> None:
    api.customer("c-1")
    api.grant("c-1", 50)
    before = table_items(stack)
    reply = api.grant("c-1", -51)
    assert reply.status == 409
    assert reply.error_code == "INSUFFICIENT_BALANCE"
    assert table_items(stack) == before


def test_debit_beyond_balance_is_allowed_when_org_allows_negative(api: Api) -> None:
    api.put("/config", {"points": {"allow_negative_balance": True}})
    api.customer("c-1")
    reply = api.grant("c-1", -20)
    assert reply.status == 201
    assert api.balance("c-1") == {"current": -20, "lifetime": 0}


def test_idempotency_key_reused_with_other_body_is_409(api: Api) -> None:
    api.customer("c-1")
    assert api.grant("c-1", 10, key="k-1").status == 201
    reply = api.grant("c-1", 11, key="k-1")
    assert reply.status == 409
    assert reply.error_code == "IDEMPOTENCY_KEY_REUSED"
    assert api.balance("c-1")["current"] == 10


def test_idempotency_key_too_long_is_422(api: Api) -> None:
    api.customer("c-1")
    reply = api.grant("c-1", 10, key="k" * 129)
    assert reply.status == 422
    assert "idempotency-key" in {f.lower() for f in reply.fields()}


def test_repeat_with_same_key_after_balance_moved_replays_first_response(api: Api) -> None:
    api.customer("c-1")
    first = api.grant("c-1", 30, key="k-2")
    api.grant("c-1", -30)
    again = api.grant("c-1", 30, key="k-2")
    assert again.status == 201
    assert again.body == first.body
    assert api.balance("c-1")["current"] == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"phone": "0555 1234"}, "phone"),
        ({"phone": "+0123"}, "phone"),
        ({"push_endpoint_arn": "arn:aws:sns:us-east-1:1:topic"}, "push_endpoint_arn"),
        ({"opted_out_channels": ["FAX"]}, "opted_out_channels.0"),
        ({"name": ""}, "name"),
    ],
)
def test_put_customer_with_bad_field_is_422(api: Api, stack: Stack, body: dict[str, Any], field: str) -> None:
    before = table_items(stack)
    reply = api.put("/customers/c-9", body)
    assert reply.status == 422, reply.body
    assert field in reply.fields()
    assert table_items(stack) == before


def test_put_customer_with_bad_path_id_is_422(api: Api) -> None:
    reply = api.put("/customers/%24bad!", {"name": "x"})
    assert reply.status == 422
    assert "customer_id" in reply.fields()


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": "x"}, "limit"),
        ({"next_token": "garbage"}, "next_token"),
    ],
)
def test_list_transactions_with_bad_query_is_422(api: Api, query: dict[str, Any], field: str) -> None:
    api.customer("c-1")
    reply = api.get("/customers/c-1/transactions", query=query)
    assert reply.status == 422, reply.body
    assert field in reply.fields()


def test_missing_org_claim_is_401(api: Api) -> None:
    reply = api.get("/customers/c-1", as_=claims(org=None))
    assert reply.status == 401
    assert reply.error_code == "UNAUTHORIZED"


def test_no_claims_at_all_is_401(api: Api) -> None:
    assert api.get("/customers/c-1", as_=None).status == 401


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [("PUT", "/config", {}), ("GET", "/config", None), ("PUT", "/customers/c-1", {"name": "x"})],
)
def test_agent_on_admin_route_is_403(api: Api, method: str, path: str, body: Any) -> None:
    reply = api.call(method, path, body, as_=AGENT)
    assert reply.status == 403
    assert reply.error_code == "FORBIDDEN"


def test_caller_without_roles_cannot_grant(api: Api) -> None:
    api.customer("c-1")
    assert api.grant("c-1", 5, as_=claims(roles="")).status == 403


def test_unknown_route_is_404_with_error_shape(api: Api) -> None:
    reply = api.get("/nope", as_=ADMIN)
    assert reply.status == 404
    assert reply.error_code == "NOT_FOUND"


def test_body_over_limit_is_413(api: Api) -> None:
    reply = api.call("PUT", "/customers/c-1", raw='{"name": "' + "x" * 70_000 + '"}')
    assert reply.status == 413

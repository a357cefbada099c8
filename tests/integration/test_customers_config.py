"""Org configuration and customers: defaults, replace semantics, e-mail uniqueness, the ledger."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from goodwill.repositories import orgs
from goodwill.services import config as config_service
from tests.support import AGENT, OTHER_ADMIN, Api


def test_get_config_without_any_returns_contract_defaults(api: Api) -> None:
    body = api.get("/config").body
    assert body["programs"] == ["default"]
    assert body["points"] == {
        "auto_approve": True,
        "approval_threshold": None,
        "max_per_request": 100000,
        "allow_negative_balance": False,
        "agent_daily_limit": None,
        "default_expiry_days": None,
        "expiry_reminder_days": 7,
        "notify_on_expiry": True,
    }
    assert body["coupons"] == {"auto_approve": False}
    assert body["approval_timeout_hours"] == 72
    assert body["channels"] == {"mandatory": [], "priority": ["SMS", "EMAIL", "PUSH"]}
    assert [r["code"] for r in body["reasons"]][:2] == ["SERVICE_RECOVERY", "LATE_DELIVERY"]
    assert set(body["templates"]) == {
        "POINTS_CREDITED",
        "POINTS_DEBITED",
        "COUPON_ISSUED",
        "POINTS_EXPIRING",
        "POINTS_EXPIRED",
        "POINTS_REVERSED",
    }


def test_put_config_is_a_full_replace_with_defaults_for_unset_keys(api: Api) -> None:
    api.put("/config", {"approval_timeout_hours": 24, "programs": ["default", "vip"]})
    reply = api.put("/config", {"programs": ["vip"]})
    assert reply.status == 200
    body = api.get("/config").body
    assert body["programs"] == ["vip"]
    assert body["approval_timeout_hours"] == 72


def test_put_config_with_unknown_template_placeholder_is_422(api: Api) -> None:
    reply = api.put("/config", {"templates": {"POINTS_CREDITED": "Hi {customer_name}, {password}"}})
    assert reply.status == 422
    assert "templates.POINTS_CREDITED" in reply.fields()


def test_put_config_with_duplicate_channel_is_422(api: Api) -> None:
    reply = api.put("/config", {"channels": {"priority": ["SMS", "SMS"]}})
    assert reply.status == 422
    assert "channels.priority" in reply.fields()


@pytest.mark.parametrize("field", ["approval_threshold", "agent_daily_limit", "max_per_request"])
def test_put_config_with_a_number_past_its_bound_is_422_and_changes_nothing(api: Api, field: str) -> None:
    # 10^40 has more digits than a DynamoDB number holds (38): it was a 500 on the write
    before = api.get("/config").body
    reply = api.put("/config", {"points": {field: 10**40}})
    assert (reply.status, reply.error_code) == (422, "VALIDATION_ERROR"), reply.body
    assert [d["field"] for d in reply.body["error"]["details"]] == [f"points.{field}"]
    assert api.get("/config").body == before


def test_configured_reason_and_max_per_request_are_enforced(api: Api) -> None:
    api.put("/config", {"reasons": [{"code": "GOODWILL", "label": "Goodwill"}], "points": {"max_per_request": 50}})
    api.customer("c-1")
    assert api.grant("c-1", 10, reason="GOODWILL").status == 201
    assert api.grant("c-1", 10).status == 422
    assert api.grant("c-1", 51, reason="GOODWILL").status == 422


def test_put_customer_creates_then_replaces(api: Api) -> None:
    first = api.put("/customers/c-1", {"name": "Ada", "email": "ADA@Example.com", "phone": "+447700900123"})
    assert first.status == 201
    assert first.body["email"] == "ada@example.com"
    assert first.body["balances"] == {"default": {"current": 0, "lifetime": 0, "expiring": []}}
    second = api.put("/customers/c-1", {"name": "Ada L.", "opted_out_channels": ["SMS"]})
    assert second.status == 200
    got = api.get("/customers/c-1", as_=AGENT).body
    assert got["name"] == "Ada L."
    assert got["email"] is None
    assert got["opted_out_channels"] == ["SMS"]


def test_an_id_sent_percent_encoded_as_api_gateway_passes_it_is_the_customer(api: Api) -> None:
    """API Gateway's REST API hands the function the path as the client sent it; a client encodes
    "@" and ":" in a path segment, and both are in the id pattern."""
    for cid, encoded in (("ada@example.com", "ada%40example.com"), ("shop:42", "shop%3A42")):
        api.customer(cid, name="Ada", email=None)
        api.grant(cid, 5)
        reply = api.get(f"/customers/{encoded}", as_=AGENT)
        assert (reply.status, reply.body["customer_id"]) == (200, cid)
        entries = api.get(f"/customers/{encoded}/transactions", as_=AGENT).body["items"]
        assert [e["points"] for e in entries] == [5]
    # a segment that decodes to "/" names no customer: refused, never a 5xx
    assert api.get("/customers/a%2Fb", as_=AGENT).status in (404, 422)


@pytest.mark.parametrize("encoded", ["c-1%0A", "a%3Fb", "a%22b", "a%23b", "a%20b", "a%00b"])
def test_an_encoded_character_outside_the_id_alphabet_is_422_on_the_id_and_writes_nothing(
    api: Api, encoded: str
) -> None:
    # A trailing newline (an id read from a file line) must not become the id without it, and a
    # "?" or "#" sent encoded is a known route with a bad id, not an unknown route
    reply = api.put(f"/customers/{encoded}", {"name": "Ada Lovelace"})
    assert (reply.status, reply.fields()) == (422, {"customer_id"}), reply.body
    assert api.get("/customers/c-1", as_=AGENT).status == 404


def test_email_is_unique_per_org_and_released_on_change(api: Api) -> None:
    api.put("/customers/c-1", {"email": "ada@example.com"})
    taken = api.put("/customers/c-2", {"email": "ada@example.com"})
    assert taken.status == 409
    assert taken.error_code == "EMAIL_IN_USE"
    api.put("/customers/c-1", {"email": "ada2@example.com"})
    assert api.put("/customers/c-2", {"email": "ada@example.com"}).status == 201


def test_credit_without_tier_affects_current_only_and_debit_with_tier_takes_both(api: Api) -> None:
    api.customer("c-1")
    api.grant("c-1", 100)
    api.grant("c-1", 40, affects_tier=False)
    assert api.balance("c-1") == {"current": 140, "lifetime": 100}
    api.grant("c-1", -30)
    assert api.balance("c-1") == {"current": 110, "lifetime": 70}
    api.grant("c-1", -10, affects_tier=False)
    assert api.balance("c-1") == {"current": 100, "lifetime": 70}


def test_ledger_is_newest_first_paginated_and_filterable(api: Api) -> None:
    api.put("/config", {"programs": ["default", "vip"]})
    api.customer("c-1")
    for points in (1, 2, 3):
        api.grant("c-1", points)
    api.grant("c-1", 7, program_id="vip")
    page1 = api.get("/customers/c-1/transactions", query={"limit": 2}).body
    page2 = api.get("/customers/c-1/transactions", query={"limit": 2, "next_token": page1["next_token"]}).body
    assert [e["points"] for e in page1["items"] + page2["items"]] == [7, 3, 2, 1]
    vip = api.get("/customers/c-1/transactions", query={"program_id": "vip"}).body
    assert [e["points"] for e in vip["items"]] == [7]
    entry = page1["items"][1]
    assert set(entry) >= {
        "transaction_id",
        "program_id",
        "type",
        "points",
        "current_after",
        "lifetime_after",
        "reason",
        "comment",
        "source",
        "request_id",
        "import_id",
        "actor",
        "created_at",
        "expires_at",
    }
    assert entry["current_after"] == 6
    assert entry["source"] == "API"


def test_source_header_claiming_console_is_ignored(api: Api) -> None:
    api.customer("c-1")
    reply = api.post(
        "/goodwill/points",
        {"customer_id": "c-1", "program_id": "default", "points": 5, "reason": "REWARD"},
        as_=AGENT,
        headers={"X-Goodwill-Source": "CONSOLE"},
    )
    assert reply.status == 201, reply.body
    assert reply.body["transaction"]["source"] == "API"


def test_token_of_the_console_app_client_is_recorded_as_console(api: Api) -> None:
    api.customer("c-1")
    console = {**AGENT, "token_use": "id", "aud": os.environ["CONSOLE_CLIENT_ID"]}
    reply = api.grant("c-1", 5, as_=console)
    assert reply.status == 201, reply.body
    assert reply.body["transaction"]["source"] == "CONSOLE"
    assert api.ledger("c-1")[0]["source"] == "CONSOLE"
    other_app = {**AGENT, "token_use": "id", "aud": "some-other-app-client"}
    assert api.grant("c-1", 5, as_=other_app).body["transaction"]["source"] == "API"


def test_points_over_threshold_are_stored_pending_without_changing_balance(api: Api) -> None:
    api.put("/config", {"points": {"approval_threshold": 500}})
    api.customer("c-1")
    reply = api.grant("c-1", 501)
    assert reply.status == 202
    assert reply.body["request"]["status"] == "PENDING_APPROVAL"
    assert api.balance("c-1")["current"] == 0
    assert api.ledger("c-1") == []
    assert api.grant("c-1", 500).status == 201


def test_expires_at_is_recorded_on_the_ledger_entry(api: Api) -> None:
    api.customer("c-1")
    reply = api.grant("c-1", 5, expires_at="2099-01-01T00:00:00Z")
    assert reply.body["transaction"]["expires_at"] == "2099-01-01T00:00:00.000Z"


def test_pending_debit_beyond_balance_is_refused_when_requested(api: Api) -> None:
    api.put("/config", {"points": {"approval_threshold": 10}})
    api.customer("c-1")
    api.grant("c-1", 10)
    reply = api.grant("c-1", -11)
    assert reply.status == 409
    assert reply.error_code == "INSUFFICIENT_BALANCE"
    assert api.get("/goodwill/requests", query={"status": "PENDING_APPROVAL"}).body["items"] == []


def test_agent_reads_the_orgs_own_reasons_and_another_org_its_defaults(api: Api) -> None:
    # Given acme's own reasons
    own = [{"code": "GESTURE", "label": "Goodwill gesture"}, {"code": "CORRECTION", "label": "Correction"}]
    assert api.put("/config", {"reasons": own}).status == 200
    # When an agent, who may not read GET /config, lists the reasons
    assert api.get("/config", as_=AGENT).status == 403
    reply = api.get("/config/reasons", as_=AGENT)
    # Then they are acme's, in acme's order, on one page
    assert (reply.status, reply.body) == (200, {"items": own, "next_token": None})
    # And another org sees its own: the contract's defaults
    other = api.get("/config/reasons", as_=OTHER_ADMIN).body["items"]
    assert [r["code"] for r in other][:2] == ["SERVICE_RECOVERY", "LATE_DELIVERY"]


def test_if_none_match_star_creates_only_and_never_replaces(api: Api) -> None:
    only_new = {"If-None-Match": "*"}
    assert api.put("/customers/c-new", {"name": "Ada"}, headers=only_new).status == 201
    before = api.get("/customers/c-new").body
    reply = api.put("/customers/c-new", {"name": "Someone Else"}, headers=only_new)
    assert reply.status == 412
    assert reply.body["error"]["code"] == "PRECONDITION_FAILED"
    assert reply.body["error"]["details"] == [{"field": "customer_id", "message": "a customer with this id exists"}]
    assert api.get("/customers/c-new").body == before
    # Without the header a PUT is still a full replace; an entity tag is not a value we accept.
    assert api.put("/customers/c-new", {"name": "Ada L."}).status == 200
    bad = api.put("/customers/c-new", {"name": "X"}, headers={"If-None-Match": '"v1"'})
    assert bad.status == 422
    assert [d["field"] for d in bad.body["error"]["details"]] == ["if-none-match"]
    assert api.get("/customers/c-new").body["name"] == "Ada L."


def test_racing_create_only_puts_create_once_and_refuse_the_rest(api: Api) -> None:
    def add(n: int) -> int:
        return api.put("/customers/c-race", {"name": f"Admin {n}"}, headers={"If-None-Match": "*"}).status

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = sorted(pool.map(add, range(8)))
    assert statuses == [201] + [412] * 7
    winner = api.get("/customers/c-race").body["name"]
    assert winner.startswith("Admin ")


def test_a_config_saved_before_the_upper_bounds_still_loads(api: Api) -> None:
    # Given an org that, before daab546, set "no approvals in practice" with a huge threshold
    stored = config_service.OrgConfig().model_dump(mode="json")
    stored["points"]["approval_threshold"] = 5_000_000_000
    orgs.put_config("acme", stored, "alice")
    config_service.clear_cache()
    assert orgs.get_config("acme")["points"]["approval_threshold"] == 5_000_000_000
    api.customer("c-1")

    # When an agent grants points after the upgrade, and the admin reads the config
    grant = api.grant("c-1", 40)
    read = api.get("/config")
    reasons = api.get("/config/reasons", as_=AGENT)

    # Then the org keeps working: never a 500
    assert (grant.status, read.status, reasons.status) == (201, 200, 200), (grant.body, read.body)


def test_the_first_config_of_an_org_that_already_has_customers_is_stored(api: Api) -> None:
    # Given an org whose admin added a customer before saving any configuration
    api.customer("c-1")

    # When the admin saves the org's first configuration (answered 200)
    saved = api.put("/config", {"points": {"approval_threshold": 1000}})
    assert saved.status == 200, saved.body

    # Then it is in the table, so every other Lambda instance (or this one after its 30 s cache) uses it
    stored = orgs.get_config("acme")
    config_service.clear_cache()
    read = api.get("/config")
    big = api.grant("c-1", 5000)
    assert stored is not None and stored["points"]["approval_threshold"] == 1000, stored
    assert read.body["points"]["approval_threshold"] == 1000
    assert big.status == 202, big.body


def test_duplicate_reason_codes_and_programs_are_422_naming_their_field(api: Api) -> None:
    reasons = [{"code": "A_CODE", "label": "A"}, {"code": "A_CODE", "label": "B"}]
    dup_reasons = api.put("/config", {"reasons": reasons})
    dup_programs = api.put("/config", {"programs": ["default", "default"]})
    assert (dup_reasons.status, dup_programs.status) == (422, 422)
    assert (dup_reasons.fields(), dup_programs.fields()) == ({"reasons"}, {"programs"}), (
        dup_reasons.body,
        dup_programs.body,
    )

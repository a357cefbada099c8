"""Coupon series and goodwill coupons: pools, generated codes, approval, never a code twice."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from local.aws.stack import Stack
from tests.support import AGENT, APPROVER, Api

SERIES = {"name": "10% off", "discount": {"type": "PERCENT", "value": 10}, "valid_days": 30}


def _coupon(api: Api, customer_id: str = "c-1", series_id: str = "pool", **kw: object) -> object:
    body = {"customer_id": customer_id, "series_id": series_id, "reason": "SERVICE_RECOVERY", **kw}
    return api.post("/goodwill/coupons", body, as_=AGENT)


def test_pool_series_reports_available_codes(api: Api) -> None:
    reply = api.put("/coupon-series/pool", {**SERIES, "codes": ["AAA-1", "AAA-2", "AAA-3"]})
    assert reply.status == 201, reply.body
    assert (reply.body["kind"], reply.body["available"]) == ("POOL", 3)
    api.put("/coupon-series/pool", {**SERIES, "name": "renamed", "codes": ["AAA-4"]})
    got = api.get("/coupon-series/pool", as_=AGENT).body
    assert (got["name"], got["available"], got["total"]) == ("renamed", 4, 4)
    assert [s["series_id"] for s in api.get("/coupon-series", as_=AGENT).body["items"]] == ["pool"]


def test_series_validation_and_unknown_series(api: Api) -> None:
    assert api.put("/coupon-series/x", {**SERIES, "discount": {"type": "PERCENT", "value": 150}}).status == 422
    assert api.put("/coupon-series/x", {**SERIES, "codes": ["DUP-1", "DUP-1"]}).status == 422
    assert api.put("/coupon-series/x", {**SERIES, "valid_days": 0}).status == 422
    assert api.get("/coupon-series/nope", as_=AGENT).status == 404
    assert api.put("/coupon-series/x", SERIES, as_=AGENT).status == 403


def test_if_none_match_star_creates_a_series_only_and_never_replaces_it(api: Api) -> None:
    # Given a pool series created with If-None-Match: * (201, as a new id is)
    only_new = {"If-None-Match": "*"}
    assert api.put("/coupon-series/sorry10", {**SERIES, "codes": ["S-1", "S-2"]}, headers=only_new).status == 201
    before = api.get("/coupon-series/sorry10", as_=AGENT).body
    # When another create-only PUT names the same id (the header's name in any case)
    for header in (only_new, {"if-none-match": "*"}):
        reply = api.put("/coupon-series/sorry10", {**SERIES, "name": "Half", "codes": ["H-1"]}, headers=header)
        # Then it is 412, naming the id, and the series (its name, discount, codes) stays as it was
        assert (reply.status, reply.error_code) == (412, "PRECONDITION_FAILED"), reply.body
        assert reply.body["error"]["details"] == [{"field": "series_id", "message": "a series with this id exists"}]
    assert api.get("/coupon-series/sorry10", as_=AGENT).body == before
    # Without the header a PUT still updates (and appends codes); an entity tag is refused.
    assert api.put("/coupon-series/sorry10", {**SERIES, "codes": ["S-3"]}).status == 200
    bad = api.put("/coupon-series/sorry10", SERIES, headers={"If-None-Match": '"v1"'})
    assert (bad.status, [d["field"] for d in bad.body["error"]["details"]]) == (422, ["if-none-match"])
    assert api.get("/coupon-series/sorry10", as_=AGENT).body["total"] == 3


def test_racing_create_only_series_puts_create_once(api: Api) -> None:
    def add(n: int) -> int:
        return api.put("/coupon-series/race", {**SERIES, "name": f"Admin {n}"}, headers={"If-None-Match": "*"}).status

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert sorted(pool.map(add, range(8))) == [201] + [412] * 7


def test_coupon_needs_approval_by_default_and_is_issued_on_approval(api: Api, stack: Stack) -> None:
    api.customer("c-1")
    api.put("/coupon-series/pool", {**SERIES, "codes": ["AAA-1"]})
    reply = _coupon(api)
    assert reply.status == 202, reply.body
    request_id = reply.body["request"]["request_id"]
    stack.settle()
    assert api.post(f"/goodwill/requests/{request_id}/approve", {}, as_=APPROVER).status == 200
    stack.settle()
    request = api.get(f"/goodwill/requests/{request_id}", as_=AGENT).body
    assert request["status"] == "FULFILLED"
    assert request["coupon"]["code"] == "AAA-1"
    coupons = api.get("/customers/c-1/coupons", as_=AGENT).body["items"]
    assert [(c["code"], c["series_id"], c["request_id"]) for c in coupons] == [("AAA-1", "pool", request_id)]
    assert api.get("/coupon-series/pool", as_=AGENT).body["available"] == 0


def test_approving_a_coupon_of_an_exhausted_pool_ends_failed(api: Api, stack: Stack) -> None:
    api.customer("c-1")
    api.put("/coupon-series/pool", {**SERIES, "codes": ["AAA-1"]})
    first, second = (_coupon(api).body["request"]["request_id"] for _ in range(2))  # type: ignore[attr-defined]
    stack.settle()
    for request_id in (first, second):
        assert api.post(f"/goodwill/requests/{request_id}/approve", {}, as_=APPROVER).status == 200
        stack.settle()
    assert api.get(f"/goodwill/requests/{first}", as_=AGENT).body["status"] == "FULFILLED"
    failed = api.get(f"/goodwill/requests/{second}", as_=AGENT).body
    assert failed["status"] == "FAILED"
    assert failed["history"][-1]["error"] == "SERIES_EXHAUSTED"


def test_auto_approved_coupon_is_issued_at_once(api: Api) -> None:
    api.put("/config", {"coupons": {"auto_approve": True}})
    api.customer("c-1")
    api.put("/coupon-series/gen", SERIES)
    reply = _coupon(api, series_id="gen")
    assert reply.status == 201, reply.body
    coupon = reply.body["coupon"]
    assert coupon["code"].startswith("GEN-")
    assert coupon["expires_at"] > coupon["issued_at"]
    assert reply.body["request"]["status"] == "FULFILLED"


def test_twenty_concurrent_coupons_from_a_pool_of_ten_issue_each_code_once(api: Api) -> None:
    api.put("/config", {"coupons": {"auto_approve": True}})
    for i in range(20):
        api.customer(f"c-{i}")
    codes = [f"CODE-{i:02d}" for i in range(10)]
    api.put("/coupon-series/pool", {**SERIES, "codes": codes})

    with ThreadPoolExecutor(max_workers=20) as pool:
        replies = list(pool.map(lambda i: _coupon(api, customer_id=f"c-{i}"), range(20)))

    issued = [r.body["coupon"]["code"] for r in replies if r.status == 201]  # type: ignore[attr-defined]
    assert sorted(issued) == codes
    assert sorted(r.status for r in replies) == [201] * 10 + [409] * 10  # type: ignore[attr-defined]
    assert {r.error_code for r in replies if r.status == 409} == {"SERIES_EXHAUSTED"}  # type: ignore[attr-defined]
    assert api.get("/coupon-series/pool", as_=AGENT).body["available"] == 0


def test_coupon_for_unknown_customer_or_series_is_404(api: Api) -> None:
    api.customer("c-1")
    assert _coupon(api, series_id="nope").status == 404  # type: ignore[attr-defined]
    api.put("/coupon-series/pool", {**SERIES, "codes": ["AAA-1"]})
    assert _coupon(api, customer_id="nobody").status == 404  # type: ignore[attr-defined]


def test_series_name_in_a_template_is_the_series_name(api: Api, stack: Stack) -> None:
    from moto.sns.models import sns_backends

    template = {"COUPON_ISSUED": "Your {series_name} coupon: {coupon_code}"}
    assert api.put("/config", {"coupons": {"auto_approve": True}, "templates": template}).status == 200
    api.customer("c-1")
    api.put("/coupon-series/pool", {**SERIES, "name": "Sorry ten percent", "codes": ["AAA-1"]})
    assert _coupon(api).status == 201  # type: ignore[attr-defined]
    stack.settle()
    texts = [m[1] for m in sns_backends["123456789012"]["us-east-1"].sms_messages.values()]
    assert texts == ["Your Sorry ten percent coupon: AAA-1"]  # was "Your pool coupon: AAA-1"


def test_a_generated_code_another_coupon_holds_is_drawn_again_not_a_500(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from goodwill.coupons import series

    api.put("/config", {"coupons": {"auto_approve": True}})
    api.customer("c-1")
    api.put("/coupon-series/gen", SERIES)
    drawn: list[str] = []
    codes = iter(["GEN-AAAAAAAAAA", "GEN-AAAAAAAAAA", "GEN-BBBBBBBBBB"])
    monkeypatch.setattr(series, "_generated_code", lambda _: drawn.append(code := next(codes)) or code)
    first, second = _coupon(api, series_id="gen"), _coupon(api, series_id="gen")
    assert first.status == 201 and second.status == 201, second.body  # type: ignore[attr-defined]
    assert drawn == ["GEN-AAAAAAAAAA", "GEN-AAAAAAAAAA", "GEN-BBBBBBBBBB"]  # the collision happened
    issued = [c["code"] for c in api.get("/customers/c-1/coupons", as_=AGENT).body["items"]]
    assert sorted(issued) == ["GEN-AAAAAAAAAA", "GEN-BBBBBBBBBB"]


def test_a_coupon_asked_of_an_empty_pool_is_refused_at_once_not_queued(api: Api, stack: Stack) -> None:
    api.customer("c-1")
    api.put("/coupon-series/pool", {**SERIES, "codes": ["AAA-1"]})
    api.put("/config", {"coupons": {"auto_approve": True}})
    assert _coupon(api).status == 201  # type: ignore[attr-defined]
    api.put("/config", {"coupons": {"auto_approve": False}})
    assert api.get("/coupon-series/pool", as_=AGENT).body["available"] == 0
    reply = _coupon(api)
    # refused now (as a debit the balance cannot cover), not after an approver approved it in vain
    assert (reply.status, reply.error_code) == (409, "SERIES_EXHAUSTED"), reply.body  # type: ignore[attr-defined]
    assert api.get("/goodwill/requests", as_=AGENT).body["items"][0]["status"] == "FULFILLED"

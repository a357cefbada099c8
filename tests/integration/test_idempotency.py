"""Idempotency-Key fingerprints the validated request, not the JSON text it arrived as."""

from __future__ import annotations

from goodwill.models.config import DEFAULT_REASONS
from tests.support import ADMIN, AGENT, Api

BODY = {"customer_id": "c-1", "program_id": "default", "points": 40, "reason": "SERVICE_RECOVERY"}


def _post(api: Api, body: dict[str, object], key: str = "k-1") -> tuple[int, object]:
    reply = api.post("/goodwill/points", body, as_=AGENT, headers={"Idempotency-Key": key})
    return reply.status, reply.body


def test_repeat_with_defaults_spelled_out_replays_the_first_response(api: Api) -> None:
    # Given a grant made with the defaults omitted
    api.customer("c-1")
    first = _post(api, BODY)
    assert first[0] == 201

    # When the same request comes again with the defaults written out, in another key order
    spelled = {"notify": True, "affects_tier": True, **dict(reversed(list(BODY.items()))), "comment": None}
    again = _post(api, spelled)

    # Then it is the same request: the first response, nothing applied twice
    assert again == first
    assert api.balance("c-1")["current"] == 40
    assert len(api.ledger("c-1")) == 1


def test_same_instant_in_another_zone_is_the_same_request(api: Api) -> None:
    api.customer("c-1")
    first = _post(api, {**BODY, "expires_at": "2099-01-01T12:00:00Z"}, key="k-2")
    again = _post(api, {**BODY, "expires_at": "2099-01-01T13:00:00+01:00"}, key="k-2")
    assert first[0] == 201
    assert again == first
    assert len(api.ledger("c-1")) == 1


def test_a_different_validated_request_is_still_a_409(api: Api) -> None:
    api.customer("c-1")
    assert _post(api, BODY, key="k-3")[0] == 201
    status, body = _post(api, {**BODY, "notify": False}, key="k-3")
    assert status == 409
    assert body["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"  # type: ignore[index]
    assert len(api.ledger("c-1")) == 1


def test_coupon_repeat_with_defaults_spelled_out_replays(api: Api) -> None:
    api.customer("c-1")
    api.put("/config", {"coupons": {"auto_approve": True}})
    series = {"name": "W", "discount": {"type": "PERCENT", "value": 10}, "valid_days": 30, "codes": ["AAA1", "AAA2"]}
    assert api.put("/coupon-series/s-1", series).status == 201
    body = {"customer_id": "c-1", "series_id": "s-1", "reason": "SERVICE_RECOVERY"}
    first = api.post("/goodwill/coupons", body, as_=AGENT, headers={"Idempotency-Key": "ck"})
    again = api.post("/goodwill/coupons", {**body, "notify": True}, as_=AGENT, headers={"Idempotency-Key": "ck"})
    assert first.status == 201
    assert (again.status, again.body) == (201, first.body)
    assert api.get("/coupon-series/s-1").body["available"] == 1


GRANT = {"customer_id": "c-1", "program_id": "default", "points": 40, "reason": "SERVICE_RECOVERY"}
WITHOUT_SERVICE_RECOVERY = [{"code": c, "label": lbl} for c, lbl in DEFAULT_REASONS if c != "SERVICE_RECOVERY"]


def test_points_retry_after_the_reason_was_removed_replays_the_first_answer(api: Api) -> None:
    # Given a keyed grant that was applied (its answer lost on the way back)
    api.customer("c-1")
    first = api.post("/goodwill/points", GRANT, as_=AGENT, headers={"Idempotency-Key": "k-r"})
    assert first.status == 201, first.body

    # When the admin tidies the reasons, and the agent's client retries with the same key and body
    assert api.put("/config", {"reasons": WITHOUT_SERVICE_RECOVERY}).status == 200
    again = api.post("/goodwill/points", GRANT, as_=AGENT, headers={"Idempotency-Key": "k-r"})

    # Then (section 6) the repeat returns the first response: the points were granted
    assert (again.status, again.body) == (201, first.body), again.body
    assert api.balance("c-1")["current"] == 40


def test_points_retry_after_max_per_request_was_lowered_replays_the_first_answer(api: Api) -> None:
    api.customer("c-1")
    first = api.post("/goodwill/points", GRANT, as_=AGENT, headers={"Idempotency-Key": "k-m"})
    assert first.status == 201, first.body
    assert api.put("/config", {"points": {"max_per_request": 10}}).status == 200
    again = api.post("/goodwill/points", GRANT, as_=AGENT, headers={"Idempotency-Key": "k-m"})
    assert (again.status, again.body) == (201, first.body), again.body


def test_coupon_and_reversal_retries_after_the_reason_was_removed_replay(api: Api) -> None:
    api.customer("c-1")
    api.put("/config", {"coupons": {"auto_approve": True}})
    series = {"name": "W", "discount": {"type": "PERCENT", "value": 10}, "valid_days": 30}
    assert api.put("/coupon-series/s-1", series).status == 201
    coupon = {"customer_id": "c-1", "series_id": "s-1", "reason": "SERVICE_RECOVERY"}
    c1 = api.post("/goodwill/coupons", coupon, as_=AGENT, headers={"Idempotency-Key": "ck"})
    assert c1.status == 201, c1.body
    txn = api.grant("c-1", 50, as_=ADMIN).body["transaction"]["transaction_id"]
    path = f"/customers/c-1/transactions/{txn}/reverse"
    r1 = api.post(path, {"reason": "SERVICE_RECOVERY"}, as_=AGENT, headers={"Idempotency-Key": "rk"})
    assert r1.status == 201, r1.body

    api.put("/config", {"coupons": {"auto_approve": True}, "reasons": WITHOUT_SERVICE_RECOVERY})
    c2 = api.post("/goodwill/coupons", coupon, as_=AGENT, headers={"Idempotency-Key": "ck"})
    r2 = api.post(path, {"reason": "SERVICE_RECOVERY"}, as_=AGENT, headers={"Idempotency-Key": "rk"})
    assert (c2.status, r2.status) == (201, 201), (c2.body, r2.body)

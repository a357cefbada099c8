"""Idempotency-Key fingerprints the validated request, not the JSON text it arrived as."""

from __future__ import annotations

from tests.support import AGENT, Api

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

"""Rules with one home that several domains use: a list whose items may each appear once
(models.common.listed_once) and the ledger change a request makes (points.ledger)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from goodwill.models.common import StrictModel, listed_once
from goodwill.points import ledger


class Listing(StrictModel):
    codes: list[str]
    channels: list[str] | None = None

    _once = listed_once("codes", "channels", message="an item may be listed once")


def test_a_list_without_repeats_passes() -> None:
    assert Listing(codes=["a", "b"], channels=None).codes == ["a", "b"]


@pytest.mark.parametrize("body", [{"codes": ["a", "a"]}, {"codes": ["a"], "channels": ["x", "y", "x"]}])
def test_a_repeat_is_refused_naming_its_field(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as refused:
        Listing.model_validate(body)
    (error,) = refused.value.errors()
    assert error["loc"] == (next(k for k, v in body.items() if len(set(v)) != len(v)),)
    assert "an item may be listed once" in error["msg"]


REQUEST = {
    "request_id": "r1",
    "customer_id": "c1",
    "program_id": "main",
    "reason": "GOODWILL",
    "requested_by": "agent-1",
    "source": "CONSOLE",
    "comment": "late parcel",
}


def test_a_requests_change_carries_its_customer_reason_requester_and_id() -> None:
    change = ledger.request_change("acme", REQUEST, 40, type="CREDIT", expires_at="2027-01-01T00:00:00.000Z")
    assert (change.org_id, change.customer_id, change.program_id, change.points) == ("acme", "c1", "main", 40)
    assert (change.reason, change.actor, change.source, change.request_id) == ("GOODWILL", "agent-1", "CONSOLE", "r1")
    assert (change.type, change.expires_at, change.comment) == ("CREDIT", "2027-01-01T00:00:00.000Z", "late parcel")


def test_a_request_affects_the_tier_unless_it_says_otherwise() -> None:
    assert ledger.request_change("acme", REQUEST, 5, type="CREDIT").affects_tier is True
    assert ledger.request_change("acme", {**REQUEST, "affects_tier": False}, 5, type="CREDIT").affects_tier is False

"""services/idempotency.py: the fingerprint is of the validated request, not of the JSON it came as."""

from __future__ import annotations

import json
import zlib
from typing import Any

import pytest

from goodwill.errors import IdempotencyKeyReusedError, ValidationFailedError
from goodwill.jsonutil import RawJson, dumps
from goodwill.models.requests import PointsGrantRequest
from goodwill.services import idempotency

BODY: dict[str, Any] = {"customer_id": "c1", "program_id": "default", "points": 50, "reason": "LATE_DELIVERY"}


def fp(**extra: Any) -> str:
    return idempotency.fingerprint(PointsGrantRequest.model_validate_json(json.dumps(BODY | extra)))


def test_a_default_spelled_out_or_omitted_is_the_same_request() -> None:
    assert fp() == fp(affects_tier=True, notify=True, comment=None)


def test_key_order_does_not_matter() -> None:
    reordered = dict(reversed(list(BODY.items())))
    assert idempotency.fingerprint(PointsGrantRequest.model_validate(reordered)) == fp()


def test_the_same_instant_in_another_zone_is_the_same_request() -> None:
    assert fp(expires_at="2099-01-01T12:00:00+02:00") == fp(expires_at="2099-01-01T10:00:00Z")


@pytest.mark.parametrize(
    "other", [{"points": 51}, {"affects_tier": False}, {"comment": "x"}, {"expires_at": "2099-01-01T10:00:01Z"}]
)
def test_any_change_of_a_field_is_another_request(other: dict[str, Any]) -> None:
    assert fp(**other) != fp()


def test_no_header_means_no_key_and_a_bad_one_is_a_422_naming_it() -> None:
    body = PointsGrantRequest.model_validate(BODY)
    assert idempotency.make_key("acme", "points", None, body) is None
    for bad in ("", "k" * (idempotency.MAX_KEY_LENGTH + 1), "tab\there"):
        with pytest.raises(ValidationFailedError) as refused:
            idempotency.make_key("acme", "points", bad, body)
        assert refused.value.details[0]["field"] == "Idempotency-Key"


def test_replay_returns_the_stored_answer_for_the_same_body_and_409_for_another() -> None:
    ikey = idempotency.make_key("acme", "points", "k1", PointsGrantRequest.model_validate(BODY))
    assert ikey is not None
    assert idempotency.replay(ikey, None) is None  # first use
    stored = {"fingerprint": ikey.fingerprint, "status_code": 201, "response_z": zlib.compress(b'{"a":1}')}
    replayed = idempotency.replay(ikey, stored)
    assert replayed == idempotency.StoredResponse(201, '{"a":1}')  # answered as stored, not re-encoded
    assert isinstance(replayed.body, RawJson) and dumps(replayed.body) == '{"a":1}'
    with pytest.raises(IdempotencyKeyReusedError):
        idempotency.replay(ikey, stored | {"fingerprint": fp(points=51)})


def test_a_response_is_packed_small_and_records_packed_either_way_replay_the_same() -> None:
    ikey = idempotency.make_key("acme", "points", "k1", PointsGrantRequest.model_validate(BODY))
    assert ikey is not None
    text = dumps({"items": [{"id": f"r-{i}", "note": "parcel arrived late" * (i % 7)} for i in range(300)]})
    assert len(text) > 16_000  # past the 4 KiB window
    packed = idempotency.pack(text.encode())
    assert len(packed) <= len(zlib.compress(text.encode(), 6)) * 1.05  # the small window costs no size
    for stored_as in (packed, zlib.compress(text.encode(), 6)):  # new records, and those of before
        record = {"fingerprint": ikey.fingerprint, "status_code": 201, "response_z": stored_as}
        assert idempotency.replay(ikey, record) == idempotency.StoredResponse(201, text)

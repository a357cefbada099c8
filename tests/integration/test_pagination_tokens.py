"""A next_token is ours or it is a 422 naming next_token: never a 500, never another listing."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest

from goodwill import aws
from tests.integration.test_faults import failing
from tests.support import AGENT, Api


def _decode(token: str) -> dict[str, Any]:
    return json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))  # type: ignore[no-any-return]


def _encode(plain: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode().rstrip("=")


Edit = Callable[[dict[str, Any]], Any]

EDITS: dict[str, Edit] = {
    "sort key outside the listing": lambda t: {**t, "SK": "PROFILE"},
    "sort key emptied": lambda t: {**t, "SK": ""},
    "sort key too long": lambda t: {**t, "SK": "TXN#" + "9" * 1100},
    "sort key a number": lambda t: {**t, "SK": 7},
    "sort key dropped": lambda t: {k: v for k, v in t.items() if k != "SK"},
    "attribute added": lambda t: {**t, "current": "1"},
    "not an object": lambda t: [t],
}


def _ledger_token(api: Api) -> str:
    api.customer("c-1")
    for points in (1, 2, 3):
        assert api.grant("c-1", points).status == 201
    reply = api.get("/customers/c-1/transactions", query={"limit": 1})
    assert reply.status == 200 and reply.body["next_token"]
    return str(reply.body["next_token"])


@pytest.mark.parametrize("edit", EDITS.values(), ids=EDITS.keys())
def test_edited_ledger_token_is_422_naming_next_token(api: Api, edit: Edit) -> None:
    token = _encode(edit(_decode(_ledger_token(api))))
    reply = api.get("/customers/c-1/transactions", query={"limit": 1, "next_token": token})
    assert reply.status == 422, reply.body
    assert reply.fields() == {"next_token"}


def test_edited_index_token_is_422_naming_next_token(api: Api) -> None:
    api.put("/config", {"points": {"approval_threshold": 10}})
    api.customer("c-1")
    for _ in range(3):
        assert api.grant("c-1", 50).status == 202
    reply = api.get("/goodwill/requests", as_=AGENT, query={"limit": 1})
    plain = _decode(reply.body["next_token"])
    for edited in ({**plain, "GSI1SK": ""}, {k: v for k, v in plain.items() if k != "PK"}, {**plain, "SK": 1}):
        bad = api.get("/goodwill/requests", as_=AGENT, query={"limit": 1, "next_token": _encode(edited)})
        assert bad.status == 422, (edited, bad.body)
        assert bad.fields() == {"next_token"}


def test_untouched_tokens_still_page_through_everything(api: Api) -> None:
    token: str | None = _ledger_token(api)
    seen = 1
    while token:
        reply = api.get("/customers/c-1/transactions", query={"limit": 1, "next_token": token})
        assert reply.status == 200, reply.body
        seen += len(reply.body["items"])
        token = reply.body["next_token"]
    assert seen == 3


def test_a_start_key_dynamodb_refuses_is_422_not_500(api: Api) -> None:
    # Whatever DynamoDB finds wrong with a start key we passed on is the caller's token at fault.
    token = _ledger_token(api)
    refused = {"Code": "ValidationException", "Message": "The provided starting key is invalid"}
    with failing(aws.dynamodb(), "Query", refused, times=1) as calls:
        reply = api.get("/customers/c-1/transactions", query={"limit": 1, "next_token": token})
    assert calls[0] == 1
    assert reply.status == 422
    assert reply.fields() == {"next_token"}


def _queries() -> tuple[list[int], Callable[[], None]]:
    counted: list[int] = []

    def count(**_: Any) -> None:
        counted.append(1)

    client = aws.dynamodb()
    client.meta.events.register("before-call.dynamodb.Query", count)
    return counted, lambda: client.meta.events.unregister("before-call.dynamodb.Query", count)


def test_a_filtered_listing_reads_in_large_pages_and_pages_through_every_match_once(api: Api) -> None:
    # Given a customer with 1 waiting request, then 150 applied ones (the waiting one is the oldest),
    # and a second customer whose 16 waiting requests are among 48 applied ones
    assert api.put("/config", {"points": {"approval_threshold": 100}}).status == 200
    for customer in ("c-1", "c-2"):
        api.customer(customer)
    assert api.grant("c-1", 500).status == 202
    for _ in range(150):
        assert api.grant("c-1", 10).status == 201
    waiting = [api.grant("c-2", 500 if i % 4 == 0 else 10).body["request"] for i in range(64)]
    expected = [r["request_id"] for r in reversed(waiting) if r["status"] == "PENDING_APPROVAL"]
    # When the waiting requests of c-1 are asked for, one at a time
    counted, stop = _queries()
    try:
        query = {"customer_id": "c-1", "status": "PENDING_APPROVAL", "limit": 1}
        first = api.get("/goodwill/requests", as_=AGENT, query=query)
    finally:
        stop()
    # Then a few Queries find it (before: one Query per request read, 151)
    assert [r["status"] for r in first.body["items"]] == ["PENDING_APPROVAL"]
    assert 1 <= len(counted) <= 3, len(counted)
    # And c-2's waiting requests page through in pages of 3: each once, newest first, none lost
    found, token = [], None
    while True:
        query = {"customer_id": "c-2", "status": "PENDING_APPROVAL", "limit": 3}
        page = api.get("/goodwill/requests", as_=AGENT, query={**query, **({"next_token": token} if token else {})})
        assert page.status == 200 and len(page.body["items"]) <= 3, page.body
        found += [r["request_id"] for r in page.body["items"]]
        token = page.body["next_token"]
        if not token:
            break
    assert found == expected and len(expected) == 16

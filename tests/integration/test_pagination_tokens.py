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

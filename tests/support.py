"""Test helpers: a client for the emulated REST API, and common claims."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from local.aws.apigw import Router, dispatch
from local.aws.stack import Stack

ORG = "acme"
OTHER_ORG = "globex"


def claims(
    org: str | None = ORG,
    roles: str = "admin",
    actor: str = "alice",
    email: str | None = "alice@acme.test",
) -> dict[str, str]:
    found = {"sub": actor, "cognito:groups": roles}
    if org is not None:
        found["custom:org_id"] = org
    if email:
        found["email"] = email
    return found


ADMIN = claims()
AGENT = claims(roles="agent", actor="bob", email="bob@acme.test")
APPROVER = claims(roles="approver", actor="carol", email="carol@acme.test")
APPROVER2 = claims(roles="approver", actor="dave", email=None)
OTHER_ADMIN = claims(org=OTHER_ORG, actor="mallory", email=None)


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str]

    @property
    def error_code(self) -> str | None:
        return (self.body or {}).get("error", {}).get("code") if isinstance(self.body, dict) else None

    def fields(self) -> set[str]:
        return {d["field"] for d in self.body["error"]["details"]}


class Api:
    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.router = Router(stack.functions)

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        as_: dict[str, str] | None = ADMIN,
        headers: dict[str, str] | None = None,
        query: dict[str, Any] | None = None,
        raw: str | None = None,
    ) -> Reply:
        text = raw if raw is not None else (json.dumps(body) if body is not None else None)
        hdrs = {"content-type": "application/json", **(headers or {})}
        qs = urlencode({k: v for k, v in (query or {}).items() if v is not None})
        result = dispatch(self.router, method, path, qs, hdrs, text, as_)
        payload = json.loads(result["body"]) if result.get("body") else None
        multi = {k: str(v[-1]) for k, v in (result.get("multiValueHeaders") or {}).items() if v}
        return Reply(result["statusCode"], payload, {**(result.get("headers") or {}), **multi})

    def get(self, path: str, **kw: Any) -> Reply:
        return self.call("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.call("POST", path, body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.call("PUT", path, body, **kw)

    # ---------------------------------------------------------------- fixtures as helpers
    def customer(self, customer_id: str = "c-1", as_: dict[str, str] = ADMIN, **fields: Any) -> Reply:
        body = {
            "name": "Ada Lovelace",
            "email": f"{customer_id}@example.com",
            "phone": "+15555550100",
            **fields,
        }
        reply = self.put(f"/customers/{customer_id}", {k: v for k, v in body.items() if v is not None}, as_=as_)
        assert reply.status in (200, 201), reply.body
        return reply

    def grant(
        self,
        customer_id: str = "c-1",
        points: int = 100,
        as_: dict[str, str] = AGENT,
        key: str | None = None,
        **fields: Any,
    ) -> Reply:
        body = {
            "customer_id": customer_id,
            "program_id": "default",
            "points": points,
            "reason": "SERVICE_RECOVERY",
            **fields,
        }
        return self.post("/goodwill/points", body, as_=as_, headers={"Idempotency-Key": key} if key else None)

    def balance(
        self, customer_id: str = "c-1", program: str = "default", as_: dict[str, str] = ADMIN
    ) -> dict[str, int]:
        reply = self.get(f"/customers/{customer_id}", as_=as_)
        assert reply.status == 200, reply.body
        found = reply.body["balances"][program]
        return {"current": found["current"], "lifetime": found["lifetime"]}  # `expiring`: api.expiring

    def expiring(self, customer_id: str = "c-1", program: str = "default") -> list[dict[str, Any]]:
        reply = self.get(f"/customers/{customer_id}")
        assert reply.status == 200, reply.body
        return reply.body["balances"][program]["expiring"]  # type: ignore[no-any-return]

    def ledger(self, customer_id: str = "c-1", as_: dict[str, str] = ADMIN) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        token = None
        while True:
            reply = self.get(
                f"/customers/{customer_id}/transactions",
                as_=as_,
                query={"limit": 100, "next_token": token},
            )
            assert reply.status == 200, reply.body
            items.extend(reply.body["items"])
            token = reply.body["next_token"]
            if not token:
                return items


def table_items(stack: Stack) -> list[dict[str, Any]]:
    """Every item of the table (for 'nothing was written' assertions)."""
    ddb = stack.client("dynamodb")
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": stack.ref("GoodwillTable")}
    while True:
        resp = ddb.scan(**kwargs)
        items.extend(resp["Items"])
        if "LastEvaluatedKey" not in resp:
            return items
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


def approvals_topic_messages(stack: Stack) -> list[str]:
    from moto.sns.models import sns_backends

    backend = sns_backends["123456789012"]["us-east-1"]
    topic = backend.topics[stack.ref("ApprovalsTopic")]
    return [n[1] for n in topic.sent_notifications]


def function_for(stack: Stack, folder: str) -> Any:
    """The template's function whose code is functions/<folder>."""
    for fn in stack.functions.by_id.values():
        if fn.code_dir.name == folder:
            return fn
    raise AssertionError(f"functions/{folder} is no function in template.yaml")

"""Count DynamoDB requests and capacity units with botocore event hooks.

`provide-client-params` keeps the call's parameters, `before-call` counts the request and reads
the items it will write (their size before), `after-call` reads them again (their size after) and
prices the call by DynamoDB's rules (bench.capacity). Items are read with a client of its own,
which is not metered. Calls may come from several threads (Step Functions runs on one).
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import boto3

from bench import capacity
from bench.capacity import IndexKey, RawItem

WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}


@dataclass
class Usage:
    requests: Counter[str] = field(default_factory=Counter)
    rcu: float = 0.0
    wcu_table: int = 0
    wcu_gsi: int = 0

    def add(self, other: Usage) -> None:
        self.requests.update(other.requests)
        self.rcu += other.rcu
        self.wcu_table += other.wcu_table
        self.wcu_gsi += other.wcu_gsi

    def view(self, per: float = 1.0) -> dict[str, Any]:
        return {
            "requests": round(sum(self.requests.values()) / per, 2),
            "by_operation": {k: round(v / per, 2) for k, v in sorted(self.requests.items())},
            "rcu": round(self.rcu / per, 2),
            "wcu_table": round(self.wcu_table / per, 2),
            "wcu_gsi": round(self.wcu_gsi / per, 2),
            "wcu_total": round((self.wcu_table + self.wcu_gsi) / per, 2),
        }


def _targets(op: str, params: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(table, action, item or key) of every item a write touches."""
    if op == "TransactWriteItems":
        found = []
        for entry in params["TransactItems"]:
            action, body = next(iter(entry.items()))
            found.append((body["TableName"], action, body.get("Item") or body["Key"]))
        return found
    if op == "BatchWriteItem":
        return [
            (
                table,
                "Put" if "PutRequest" in r else "Delete",
                r.get("PutRequest", {}).get("Item") or r["DeleteRequest"]["Key"],
            )
            for table, requests in params["RequestItems"].items()
            for r in requests
        ]
    action = {"PutItem": "Put", "UpdateItem": "Update", "DeleteItem": "Delete"}[op]
    return [(params["TableName"], action, params.get("Item") or params["Key"])]


class Meter:
    def __init__(self) -> None:
        self.usage = Usage()
        self._lock = threading.Lock()
        self._local = threading.local()
        self._reader = boto3.session.Session().client("dynamodb")
        self._schemas: dict[str, tuple[list[str], list[IndexKey]]] = {}

    def attach(self, events: Any) -> None:
        """Meter the clients of an event emitter: a client's, or a session's (for clients made later)."""
        events.register("provide-client-params.dynamodb", self._params)
        events.register("before-call.dynamodb", self._before)
        events.register("after-call.dynamodb", self._after)

    def take(self) -> Usage:
        with self._lock:
            usage, self.usage = self.usage, Usage()
        return usage

    def _schema(self, table: str) -> tuple[list[str], list[IndexKey]]:
        if table not in self._schemas:
            desc = self._reader.describe_table(TableName=table)["Table"]
            keys = [k["AttributeName"] for k in desc["KeySchema"]]
            indexes: list[IndexKey] = []
            for gsi in desc.get("GlobalSecondaryIndexes", []):
                names = {k["KeyType"]: k["AttributeName"] for k in gsi["KeySchema"]}
                indexes.append((names["HASH"], names.get("RANGE")))
            self._schemas[table] = (keys, indexes)
        return self._schemas[table]

    def _read(self, table: str, item_or_key: dict[str, Any]) -> RawItem | None:
        keys, _ = self._schema(table)
        key = {k: item_or_key[k] for k in keys}
        found: RawItem | None = self._reader.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
        return found

    def _params(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self._local.call = (model.name, dict(params))

    def _before(self, model: Any, **_: Any) -> None:
        op, params = self._local.call
        with self._lock:
            self.usage.requests[op] += 1
        if op in WRITES:
            self._local.before = [self._read(t, i) for t, _, i in _targets(op, params)]

    def _after(self, model: Any, parsed: dict[str, Any], http_response: Any, **_: Any) -> None:
        op, params = self._local.call
        if http_response.status_code >= 300:
            return  # nothing was written or read (a failed conditional write is priced as a write on AWS)
        cost = Usage()
        if op in WRITES:
            self._price_writes(op, params, cost)
        else:
            self._price_reads(op, params, parsed, cost)
        with self._lock:
            self.usage.rcu += cost.rcu
            self.usage.wcu_table += cost.wcu_table
            self.usage.wcu_gsi += cost.wcu_gsi

    def _price_writes(self, op: str, params: dict[str, Any], cost: Usage) -> None:
        transactional = op == "TransactWriteItems"
        for (table, action, item), before in zip(_targets(op, params), self._local.before, strict=True):
            after = before if action == "ConditionCheck" else self._read(table, item)
            size = max(capacity.item_size(before), capacity.item_size(after))
            cost.wcu_table += capacity.write_units(size, transactional)
            cost.wcu_gsi += capacity.gsi_write_units(before, after, self._schema(table)[1])

    def _price_reads(self, op: str, params: dict[str, Any], parsed: dict[str, Any], cost: Usage) -> None:
        consistent = bool(params.get("ConsistentRead"))
        if op == "GetItem":
            cost.rcu += capacity.read_units(capacity.item_size(parsed.get("Item")), consistent)
        elif op == "BatchGetItem":
            for table, request in params["RequestItems"].items():
                items = parsed.get("Responses", {}).get(table, [])
                strong = bool(request.get("ConsistentRead"))
                cost.rcu += sum(capacity.read_units(capacity.item_size(i), strong) for i in items)
                cost.rcu += (len(request["Keys"]) - len(items)) * capacity.read_units(0, strong)
        elif op in ("Query", "Scan"):
            items = parsed.get("Items", [])
            total = sum(capacity.item_size(i) for i in items)
            if items and parsed.get("ScannedCount", 0) > len(items):  # filtered out: priced at the mean size
                total = total * parsed["ScannedCount"] // len(items)
            cost.rcu += capacity.read_units(total, consistent)
        elif op == "TransactGetItems":
            for entry in parsed.get("Responses", []):
                cost.rcu += capacity.read_units(capacity.item_size(entry.get("Item")), transactional=True)

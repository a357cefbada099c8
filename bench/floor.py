"""The floor of a warm request: the very DynamoDB calls its handler made, issued directly.

A Mirror records every call the handlers' client makes (botocore's provide-client-params hook)
and replays it verbatim on a twin table that has received every earlier call too. The twin is
therefore in the state the real table was in when the handler ran, so the replay takes the same
paths (conditions pass or fail alike, queries return the same pages), with the same items, the
same sizes and a client with the same configuration: only the handler's own work is missing.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import ClientError

from local.aws.stack import Stack

# The handlers' client configuration (goodwill/aws.py), so both sides retry and time out alike.
CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 4}, connect_timeout=2, read_timeout=10)


def _rename(value: Any, old: str, new: str) -> Any:
    if isinstance(value, dict):
        return {(new if k == old else k): _rename(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_rename(v, old, new) for v in value]
    return new if value == old else value


def create_twin(stack: Stack, table: str, twin: str) -> None:
    ddb = stack.client("dynamodb")
    desc = ddb.describe_table(TableName=table)["Table"]
    args: dict[str, Any] = {
        "TableName": twin,
        "KeySchema": desc["KeySchema"],
        "AttributeDefinitions": desc["AttributeDefinitions"],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if desc.get("GlobalSecondaryIndexes"):
        args["GlobalSecondaryIndexes"] = [
            {k: g[k] for k in ("IndexName", "KeySchema", "Projection")} for g in desc["GlobalSecondaryIndexes"]
        ]
    if desc.get("StreamSpecification"):
        args["StreamSpecification"] = desc["StreamSpecification"]
    ddb.create_table(**args)


class Mirror:
    """Record the handlers' DynamoDB calls; replay() issues them on the twin and times them."""

    def __init__(self, stack: Stack, source: BaseClient) -> None:
        self.table = stack.ref("GoodwillTable")
        self.twin = f"{self.table}-floor"
        create_twin(stack, self.table, self.twin)
        self.client = stack.session.client("dynamodb", config=CLIENT_CONFIG)
        self._methods = {api: py for py, api in self.client.meta.method_to_api_mapping.items()}
        self.pending: list[tuple[str, dict[str, Any]]] = []
        source.meta.events.register("provide-client-params.dynamodb", self._record)

    def _record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        # A shallow copy: callers reuse their top-level dict between pages (table.query_page).
        self.pending.append((model.name, dict(params)))

    def replay(self) -> float:
        """Issue the recorded calls on the twin; seconds spent in them (errors included)."""
        calls = [(getattr(self.client, self._methods[op]), _rename(p, self.table, self.twin)) for op, p in self.pending]
        self.pending.clear()
        started = time.perf_counter()
        for method, params in calls:
            with contextlib.suppress(ClientError):  # the handler met the same error at the same point
                method(**params)
        return time.perf_counter() - started

    def operations(self) -> list[str]:
        return [op for op, _ in self.pending]

"""A Step Functions task's payload is outside input too: a malformed one fails the task with the
field named (pydantic's ValidationError, which the workflow's Catch sees), and nothing is written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from local.aws.stack import Stack
from tests.support import Api, function_for, table_items

EVENTS = Path(__file__).resolve().parents[2] / "events"

# (function folder, sample payload, field to break, bad value)
CASES = [
    ("request_workflow", "fulfil.json", "org_id", "../other-org"),
    ("request_workflow", "fulfil.json", "action", "approve"),
    ("request_workflow", "record_failure.json", "request_id", "x" * 200),
    ("notify", "plan.json", "request_id", "not an id"),
    ("notify", "plan.json", "action", "broadcast"),
    ("bulk_csv_import", "record_failure.json", "import_id", "01J/../../x"),
    ("bulk_csv_import", "record_failure.json", "attempt", 0),
    ("expire_points", "settle_shard.json", "shard", -1),
    ("expire_points", "settle_shard.json", "action", "purge"),
]


@pytest.mark.parametrize(("folder", "sample", "field", "bad"), CASES, ids=lambda v: str(v)[:20])
def test_a_malformed_task_payload_fails_naming_the_field(
    api: Api, stack: Stack, folder: str, sample: str, field: str, bad: Any
) -> None:
    api.customer("cust-001")
    payload = json.loads((EVENTS / folder / sample).read_text())
    payload[field] = bad
    before = table_items(stack)
    with pytest.raises(ValidationError) as raised:
        function_for(stack, folder).invoke(payload)
    assert field in {str(error["loc"][0]) for error in raised.value.errors()}
    assert table_items(stack) == before


@pytest.mark.parametrize("folder", ["request_workflow", "notify", "bulk_csv_import", "expire_points"])
def test_a_task_payload_that_is_not_an_object_fails(stack: Stack, folder: str) -> None:
    with pytest.raises(ValidationError):
        function_for(stack, folder).invoke(["not", "an", "object"])

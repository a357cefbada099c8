"""The bulk import's capacity parameters (issue 17) reach what runs: MaxConcurrency of the
Distributed Map through DefinitionSubstitutions (in the very definition moto executes), and the
table's warm throughput, off unless asked for."""

from __future__ import annotations

import json
from typing import Any

from local.aws.stack import Stack, definition
from local.aws.template import Resolver, parameter_defaults, resources


def _map_state(asl: dict[str, Any]) -> dict[str, Any]:
    return next(s for s in asl["States"].values() if s["Type"] == "Map")


def test_the_executed_import_workflow_runs_chunks_at_the_templates_max_concurrency(stack: Stack) -> None:
    arn = stack.ref("BulkImportStateMachine")
    executed = json.loads(stack.client("stepfunctions").describe_state_machine(stateMachineArn=arn)["definition"])
    assert _map_state(executed)["MaxConcurrency"] == int(parameter_defaults()["ImportMaxConcurrency"]) == 10


def test_max_concurrency_follows_the_parameter(stack: Stack) -> None:
    resolver = Resolver(refs={**stack.resolver.refs, "ImportMaxConcurrency": "40"}, attrs=stack.resolver.attrs)
    assert _map_state(json.loads(definition(resolver, "BulkImportStateMachine")))["MaxConcurrency"] == 40


def _table_properties(warm: str) -> dict[str, Any]:
    resolver = Resolver(refs={**parameter_defaults(), "WarmThroughput": warm}, conditions={"WarmTable": warm != "0"})
    props: dict[str, Any] = resolver.resolve(resources("AWS::DynamoDB::Table")["GoodwillTable"]["Properties"])
    return props


def test_warm_throughput_is_off_by_default_and_set_when_asked(stack: Stack) -> None:
    assert stack.resolver.conditions["WarmTable"] is False
    assert "WarmThroughput" not in _table_properties(parameter_defaults()["WarmThroughput"])
    assert _table_properties("16000")["WarmThroughput"] == {"WriteUnitsPerSecond": "16000"}

"""Structural checks of every state machine definition, as deployed (substitutions applied)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from local.aws.stack import Stack, definition
from local.aws.template import resources

MACHINES = sorted(resources("AWS::Serverless::StateMachine"))


def _states(states: dict[str, Any]) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    found = []
    for name, state in states.items():
        found.append((name, state, states))
        for branch in state.get("Branches", []):
            found.extend(_states(branch["States"]))
        for key in ("Iterator", "ItemProcessor"):
            if key in state:
                found.extend(_states(state[key]["States"]))
    return found


@pytest.mark.parametrize("logical_id", MACHINES)
def test_definition_is_valid_json_with_no_unresolved_substitution(stack: Stack, logical_id: str) -> None:
    text = definition(stack.resolver, logical_id)
    assert "${" not in text
    json.loads(text)


@pytest.mark.parametrize("logical_id", MACHINES)
def test_every_next_exists_and_every_task_has_retry_and_catch(stack: Stack, logical_id: str) -> None:
    asl = json.loads(definition(stack.resolver, logical_id))
    for name, state, scope in _states(asl["States"]):
        targets = [state.get("Next"), state.get("Default")]
        targets += [c.get("Next") for c in state.get("Choices", []) + state.get("Catch", [])]
        for target in filter(None, targets):
            assert target in scope, f"{name}: Next {target} does not exist"
        if state["Type"] == "Task":
            assert state.get("Retry"), f"{name} has no Retry"
            assert state.get("Catch"), f"{name} has no Catch"
        if state["Type"] not in ("Choice", "Succeed", "Fail"):
            assert state.get("Next") or state.get("End"), f"{name} neither continues nor ends"


@pytest.mark.parametrize("logical_id", MACHINES)
def test_every_state_is_reachable(stack: Stack, logical_id: str) -> None:
    asl = json.loads(definition(stack.resolver, logical_id))
    seen, todo = set(), [asl["StartAt"]]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        state = asl["States"][name]
        todo += [t for t in [state.get("Next"), state.get("Default")] if t]
        todo += [c["Next"] for c in state.get("Choices", []) + state.get("Catch", [])]
    assert seen == set(asl["States"])

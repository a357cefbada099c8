"""Every sample event under events/ is fed to its function, so none goes stale."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from local.stack import Stack
from tests.support import Api

ROOT = Path(__file__).resolve().parents[2]
EVENTS = sorted((ROOT / "events").glob("*/*.json"))


def _function_for(stack: Stack, folder: str) -> Any:
    for fn in stack.functions.by_id.values():
        if fn.code_dir.name == folder:
            return fn
    raise AssertionError(f"events/{folder} matches no function in template.yaml")


def _seed(api: Api) -> None:
    """The world the samples assume: org acme with customer cust-001 holding some points."""
    api.put("/customers/cust-001", {"name": "Ada", "email": "ada@example.com", "phone": "+447700900123"})
    api.grant("cust-001", 500)


def test_every_function_folder_has_sample_events(stack: Stack) -> None:
    folders = {fn.code_dir.name for fn in stack.functions.by_id.values()}
    with_events = {p.parent.name for p in EVENTS}
    assert folders <= with_events, f"functions without sample events: {folders - with_events}"


@pytest.mark.parametrize("path", EVENTS, ids=[f"{p.parent.name}/{p.stem}" for p in EVENTS])
def test_sample_event_is_handled_without_error(api: Api, stack: Stack, path: Path) -> None:
    _seed(api)
    event = json.loads(path.read_text())
    result = _function_for(stack, path.parent.name).invoke(event)
    if "httpMethod" in event:
        assert result["statusCode"] < 400, result["body"]
        json.loads(result["body"])

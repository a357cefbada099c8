"""Init's GC pause (goodwill/__init__.py): in a Lambda, no garbage collection runs while a function's
handler module is imported once goodwill is loaded (for an API function: once Powertools is), the
collector is on again when the import is over, and what init built is frozen. Outside Lambda
(tests, the local run) the collector is left alone. Each function is imported in a fresh process,
as Lambda does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = sorted(p.parent for p in (ROOT / "functions").glob("*/app.py"))
PROBE = """
import gc, json, sys
seen = []
def watch(phase, info):
    if phase == "start":
        seen.append(("goodwill" in sys.modules, "aws_lambda_powertools" in sys.modules))
gc.callbacks.append(watch)
import app
gc.callbacks.remove(watch)
print(json.dumps({
    "enabled": gc.isenabled(),
    "frozen": gc.get_freeze_count(),
    "after_goodwill": sum(g for g, _ in seen),
    "after_powertools": sum(p for _, p in seen),
    "api": hasattr(app, "app"),
}))
"""


def probe(code_dir: Path, in_lambda: bool) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k not in ("AWS_EXECUTION_ENV", "PYTHONPATH")}
    env["PYTHONPATH"] = os.pathsep.join([str(code_dir), str(ROOT / "layers" / "goodwill")])
    env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    if in_lambda:
        env["AWS_EXECUTION_ENV"] = "AWS_Lambda_python3.13"
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=code_dir, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


@pytest.fixture(scope="module")
def in_lambda() -> dict[str, dict[str, Any]]:
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip((d.name for d in FUNCTIONS), pool.map(lambda d: probe(d, True), FUNCTIONS), strict=True))


@pytest.mark.parametrize("name", [d.name for d in FUNCTIONS])
def test_no_collection_while_the_handler_is_imported(in_lambda: dict[str, dict[str, Any]], name: str) -> None:
    found = in_lambda[name]
    assert found["after_goodwill"] == 0, f"{name}: {found['after_goodwill']} collections after goodwill was imported"
    if found["api"]:  # its app.py imports goodwill first: the pause covers Powertools, boto3 and pydantic
        assert found["after_powertools"] == 0, f"{name}: collections while Powertools was imported"
    assert found["enabled"], f"{name}: the collector is still off after the import (its handler never ended the pause)"
    assert found["frozen"] > 10_000, f"{name}: init's objects were not frozen ({found['frozen']})"


def test_outside_lambda_the_collector_is_left_alone() -> None:
    found = probe(ROOT / "functions" / "customers", in_lambda=False)
    # The same import collects as usual (so the check above can fail) and freezes nothing.
    assert found["after_goodwill"] > 0 and found["after_powertools"] > 0
    assert found["enabled"] and found["frozen"] == 0

"""Cold start: the import time of every functions/*/app.py in a fresh process, against a floor.

Floor: a process importing boto3 and Powertools' APIGatewayRestResolver, Logger and Metrics.
Skeleton: the floor plus what every API handler builds before any of our code: Logger(),
Metrics(), a resolver with `enable_validation=True` (which loads pydantic) and the Lambda handler
under `inject_lambda_context(correlation_id_path=API_GATEWAY_REST)` and `log_metrics`. The goal
is each handler against the skeleton. Every function pauses the garbage collector while it is
imported (goodwill/__init__.py), which the skeleton does not; `vs_paused_skeleton` compares with
the skeleton under the same pause: what our modules add. Timed inside the process around the
imports (interpreter start-up excluded), as CPU time (`time.process_time`): an import is CPU-bound,
and on a shared machine wall time mostly measures the other processes (the wall-clock medians are
kept as `wall_ms`). Rounds run every target once in rotating order; the ratio is the median over
rounds of target / floor, so each ratio compares processes that ran seconds apart. Two byte-code
states (bench.lambda_env): `warm` (goal) and `runtime_only` (the layer as sam build ships it:
compiled on every cold start).
"""

from __future__ import annotations

import statistics
import subprocess
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench.lambda_env import ROOT, LambdaEnv, build

GOAL_RATIO = 1.10  # handler import / skeleton import
Seconds = dict[str, list[float]]
FLOOR = (
    "import boto3\n"
    "from aws_lambda_powertools.event_handler import APIGatewayRestResolver\n"
    "from aws_lambda_powertools import Logger, Metrics\n"
)
SKELETON = FLOOR + (
    "from aws_lambda_powertools.logging import correlation_paths\n"
    "_logger, _metrics = Logger(), Metrics()\n"
    "_app = APIGatewayRestResolver(enable_validation=True)\n"
    "@_logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)\n"
    "@_metrics.log_metrics\n"
    "def lambda_handler(event, context):\n"
    "    return _app.resolve(event, context)\n"
)
# The skeleton with init's GC pause (goodwill/__init__.py: collector off from the first import until
# the handler is decorated, then init's objects frozen): what our code adds with the same pause.
SKELETON_PAUSED = "import gc\ngc.disable()\n" + SKELETON + "gc.freeze()\ngc.enable()\n"
TIMED = (
    "import time\n_c, _t = time.process_time(), time.perf_counter()\n{code}"
    "print(time.process_time() - _c, time.perf_counter() - _t)\n"
)


def function_dirs() -> tuple[Path, ...]:
    return tuple(sorted(p.parent for p in (ROOT / "functions").glob("*/app.py")))


def _targets() -> dict[str, tuple[str, Path | None]]:
    found: dict[str, tuple[str, Path | None]] = {
        "floor": (FLOOR, None),
        "skeleton": (SKELETON, None),
        "skeleton_paused": (SKELETON_PAUSED, None),
    }
    for code_dir in function_dirs():
        found[code_dir.name] = ("import app\n", code_dir)
    return found


def _run(env: LambdaEnv, code: str, code_dir: Path | None, pyc: str, *flags: str) -> subprocess.CompletedProcess[str]:
    cmd = env.command(*flags, "-c", TIMED.format(code=code))
    return subprocess.run(
        cmd,
        cwd=code_dir or env.root,
        env=env.environment(code_dir, pyc, name=code_dir.name if code_dir else "floor"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _rounds(env: LambdaEnv, names: list[str], pyc: str, rounds: int) -> tuple[Seconds, Seconds]:
    """CPU and wall-clock seconds of each target's import, per round."""
    targets = _targets()
    cpu: Seconds = defaultdict(list)
    wall: Seconds = defaultdict(list)
    for r in range(rounds):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            done = _run(env, *targets[name], pyc)
            spent = done.stdout.strip().splitlines()[-1].split() if done.returncode == 0 else ["nan", "nan"]
            cpu[name].append(float(spent[0]))
            wall[name].append(float(spent[1]))
    return cpu, wall


def _ratios(seconds: dict[str, list[float]]) -> dict[str, float]:
    floor = seconds["floor"]
    return {
        name: round(statistics.median(v / f for v, f in zip(values, floor, strict=True)), 2)
        for name, values in seconds.items()
    }


def _importtime(env: LambdaEnv, name: str) -> dict[str, float]:
    """Self import time (ms) of each module, from -X importtime."""
    code, code_dir = _targets()[name]
    done = _run(env, code, code_dir, "warm", "-X", "importtime")
    found: dict[str, float] = {}
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            parts = line[len("import time:") :].split("|")
            if parts[0].strip().isdigit():
                found[parts[2].strip()] = int(parts[0]) / 1000
    return found


def dominant_modules(env: LambdaEnv, name: str, floor_modules: set[str], top: int = 6) -> list[dict[str, Any]]:
    """The packages (beyond the floor's) that take most of a handler's import time."""
    by_package: dict[str, float] = defaultdict(float)
    for module, ms in _importtime(env, name).items():
        if module not in floor_modules:
            by_package[module.split(".")[0]] += ms
    ranked = sorted(by_package.items(), key=lambda kv: -kv[1])[:top]
    return [{"package": p, "self_ms": round(ms, 1)} for p, ms in ranked]


def _summary(measured: tuple[Seconds, Seconds]) -> dict[str, Any]:
    seconds, wall = measured
    ratios = _ratios(seconds)
    found: dict[str, Any] = {
        name: {
            "median_ms": round(statistics.median(values) * 1e3, 1),
            "wall_ms": round(statistics.median(wall[name]) * 1e3, 1),
            "ratio": ratios[name],
        }
        for name, values in seconds.items()
    }
    # What our code adds to the skeleton every validating Powertools handler pays.
    # (And the paused skeleton against the plain one.)
    handlers = [n for n in seconds if n not in ("floor", "skeleton", "skeleton_paused")]
    for base, key, names in (
        ("skeleton", "vs_skeleton", [*handlers, "skeleton_paused"]),
        ("skeleton_paused", "vs_paused_skeleton", handlers),
    ):
        for name in names:
            if base in seconds and name in seconds:
                over = statistics.median(v / b for v, b in zip(seconds[name], seconds[base], strict=True))
                found[name][key] = round(over, 2)
    return found


def worst(summary: dict[str, Any], names: list[str]) -> list[str]:
    return sorted(names, key=lambda n: -summary[n].get("vs_skeleton", summary[n]["ratio"]))[:1]


def run(quick: bool = False) -> dict[str, Any]:
    dirs = function_dirs()
    env = build(dirs)
    names = list(_targets())
    rounds = 3 if quick else 5
    warm = _summary(_rounds(env, names, "warm", rounds))
    # Byte-code-less imports take 2-3 times as long: an API handler and a non-API one tell the story.
    cold_names = ["floor", "issue_points"] if quick else ["floor", "skeleton", "issue_points", "stream_dispatch"]
    cold = {}  # without the Lambda-like paths (pip failed) the venv's own byte code would blur it
    if env.method == "lambda-like":
        cold = _summary(_rounds(env, cold_names, "runtime_only", 2 if quick else 3))
    floor_modules = set(_importtime(env, "floor"))
    handlers = [d.name for d in dirs]
    over = [h for h in handlers if warm[h].get("vs_skeleton", warm[h]["ratio"]) > GOAL_RATIO]
    return {
        "benchmark": "cold_start",
        "method": env.method,
        "missing_from_layer": env.missing,
        "rounds": rounds,
        "goal_ratio": GOAL_RATIO,
        "warm_pyc": warm,
        "no_layer_pyc": cold,
        "over_goal": over,
        "dominant": {h: dominant_modules(env, h, floor_modules) for h in (worst(warm, over) if quick else over)},
        "meets_goal": not over and not env.missing,
    }

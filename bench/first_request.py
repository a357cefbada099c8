"""The first request of a fresh process: import + one request, against a bare resolver doing the same.

What a user waits for on a cold start is not the import alone but the import and the first
request (clients created, models built, settings read). For a few routes, the request is first run
against moto with its DynamoDB calls and their answers recorded (bench.cpu.Canned); then fresh
Lambda-like processes (bench.lambda_env: `python -S`, the layer's requirements, byte code cached)
time, from before the first import to the answer:
- target: `import app` of the route's function and one `lambda_handler(event, context)`;
- floor: the skeleton every validating Powertools handler has (Logger, Metrics, a resolver with
  `enable_validation=True`, the handler under `inject_lambda_context` and `log_metrics`) with the
  same route (its path parameters too) issuing the same boto3 calls and answering the same status,
  none of our code.
Both answer AWS from the recording at botocore's `before-send`, installed inside the timed part;
a run fails when either side answers another status or leaves a recorded answer unused.
Timed as CPU (`time.process_time`; wall-clock medians kept as `*_wall_ms`): on a shared machine
wall time mostly measures the other processes. Rounds alternate target and floor; the ratio is
the median of per-round ratios.
"""

from __future__ import annotations

import base64
import json
import re
import statistics
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from bench.cold_start import function_dirs
from bench.lambda_env import ROOT, LambdaEnv, build

GOAL_RATIO = 1.15

# Installed in both processes, inside the timed part: answers every AWS call from the recording.
_FAKE = """
import json as _json, base64 as _b64, time as _time
_c, _t = _time.process_time(), _time.perf_counter()
_rec = _json.load(open({recording!r}))
_answers = iter(_rec["answers"])
import botocore.handlers as _h
from botocore.awsrequest import AWSResponse as _R
class _Body:
    def __init__(self, d): self.d = d
    def read(self, amt=None):
        d, self.d = self.d, b""
        return d
    def stream(self, amt=65536, decode_content=True):
        if self.d: yield self.read()
def _answer(request, **kw):
    a = next(_answers)
    return _R(request.url, a["status_code"], a["headers"], _Body(_b64.b64decode(a["body"])))
_h.BUILTIN_HANDLERS.append(("before-send", _answer))
class _Ctx:
    function_name = "bench"; memory_limit_in_mb = 512; aws_request_id = "r-1"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
"""

_TARGET = """
import app
_out = app.lambda_handler(_rec["event"], _Ctx())
"""

_FLOOR = """
import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.logging import correlation_paths
_logger, _metrics = Logger(), Metrics()
_app = APIGatewayRestResolver(enable_validation=True)
from botocore.config import Config
_config = Config(retries={{"mode": "standard", "max_attempts": 4}}, connect_timeout=2, read_timeout=10)
def _route({params}):
    client = boto3.session.Session().client("dynamodb", config=_config)  # as goodwill/aws.py builds it
    for op, params in _rec["calls"]:
        try:
            getattr(client, op)(**params)
        except client.exceptions.ClientError:
            pass
    return {{"ok": True}}, _rec["status"]
_app.route({path!r}, method={method!r})(_route)
@_logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@_metrics.log_metrics
def _handler(event, context):
    return _app.resolve(event, context)
_out = _handler(_rec["event"], _Ctx())
"""

_END = """
import sys as _sys
_sys.stdout = _sys.__stdout__
print("SECONDS", _time.process_time() - _c, _time.perf_counter() - _t, _out["statusCode"], len(list(_answers)))
"""


def _record(route_names: list[str]) -> dict[str, dict[str, Any]]:
    """Run each route once against moto; keep its event, calls and answers."""
    from bench.cpu import Canned
    from bench.harness import Client, moto_stack, quiet
    from bench.latency import routes
    from bench.scenario import seed
    from goodwill import aws
    from goodwill.services import config as config_service

    found: dict[str, dict[str, Any]] = {}
    with moto_stack() as stack:
        client = Client(stack)
        seed(client)
        canned = Canned(aws.dynamodb())
        for route in routes(client):
            if route.name not in route_names:
                continue
            if route.prepare:
                route.prepare(1)
            call = route.make(0)
            config_service.clear_cache()  # a fresh process reads the org's config: record that read
            canned.start_recording()
            with quiet():
                result = call.run()
            methods = {api: py for py, api in aws.dynamodb().meta.method_to_api_mapping.items()}
            found[route.name] = {
                "function": call.function.code_dir.name,
                "environment": {k: v for k, v in call.function.environment.items() if not k.startswith("AWS_")},
                "event": call.event,
                "status": result["statusCode"],
                "calls": [(methods[op], params) for op, params, _ in canned.calls],
                "answers": [
                    {"status_code": a["status_code"], "headers": dict(a["headers"]), "body": _b64(a["body"])}
                    for _, _, a in canned.calls
                ],
            }
    return found


def _b64(body: bytes) -> str:
    return base64.b64encode(body).decode()


FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_SESSION_TOKEN": "bench"}


def _time(env: LambdaEnv, code: str, code_dir: Path | None, function_env: dict[str, str]) -> tuple[float, float, int]:
    """CPU and wall-clock seconds of the process's import and first request, and the answer's status."""
    done = subprocess.run(
        env.command("-c", code),
        cwd=code_dir or env.root,
        env={**env.environment(code_dir, "warm", name="first-request"), **function_env, **FAKE_CREDENTIALS},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    for line in done.stdout.splitlines():
        if line.startswith("SECONDS "):
            _, cpu, wall, status, unanswered = line.split()
            if int(unanswered):
                raise RuntimeError(f"{unanswered} recorded AWS answers left unused: the calls differ")
            return float(cpu), float(wall), int(status)
    raise RuntimeError(f"first request failed: {done.stderr[-2000:]}")


def _method_and_path(event: dict[str, Any]) -> tuple[str, str]:
    """The route as Powertools spells it (`/customers/<customer_id>`) and its path parameters."""
    resource = event["resource"]
    return event["httpMethod"], re.sub(r"\{(\w+)\}", r"<\1>", resource)


def _floor(event: dict[str, Any]) -> str:
    method, path = _method_and_path(event)
    params = ", ".join(re.findall(r"<(\w+)>", path))
    return _FLOOR.format(path=path, method=method, params=params)


ROUTES = ["POST /goodwill/points", "GET /customers/{id}", "PUT /customers/{id}"]


def run(quick: bool = False) -> dict[str, Any]:
    rounds = 3 if quick else 7
    env = build(function_dirs())
    recorded = _record(ROUTES)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, rec in recorded.items():
            path = Path(tmp) / f"{rec['function']}.json"
            path.write_text(json.dumps(rec))
            fake = _FAKE.format(recording=str(path))
            target = fake + _TARGET + _END
            floor = fake + _floor(rec["event"]) + _END
            code_dir = ROOT / "functions" / rec["function"]
            pairs, walls = [], []
            for r in range(rounds):
                order = [(target, code_dir), (floor, None)] if r % 2 == 0 else [(floor, None), (target, code_dir)]
                timed = {id(code): _time(env, code, where, rec["environment"]) for code, where in order}
                (t, tw, status), (f, fw, floor_status) = timed[id(target)], timed[id(floor)]
                if rec["status"] != status or rec["status"] != floor_status:
                    raise RuntimeError(f"{name}: {status} (floor {floor_status}) fresh, {rec['status']} against moto")
                pairs.append((t, f))
                walls.append((tw, fw))
            ratio = statistics.median(t / f for t, f in pairs)
            results.append(
                {
                    "route": name,
                    "dynamodb_requests": len(rec["calls"]),
                    "target_ms": round(statistics.median(t for t, _ in pairs) * 1e3, 1),
                    "floor_ms": round(statistics.median(f for _, f in pairs) * 1e3, 1),
                    "target_wall_ms": round(statistics.median(t for t, _ in walls) * 1e3, 1),
                    "floor_wall_ms": round(statistics.median(f for _, f in walls) * 1e3, 1),
                    "ratio": round(ratio, 2),
                    "goal_ratio": GOAL_RATIO,
                    "meets_goal": ratio <= GOAL_RATIO,
                }
            )
    return {"benchmark": "first_request", "method": env.method, "rounds": rounds, "routes": results}

"""Run the template's Lambda handlers in-process, with the environment template.yaml gives them."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from local.aws.template import ACCOUNT, REGION, ROOT, Resolver, load, resources

LAYER_DIR = ROOT / "layers" / "goodwill"


@dataclass
class LambdaContext:
    function_name: str
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"

    @property
    def invoked_function_arn(self) -> str:
        return function_arn(self.function_name)

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


def function_arn(logical_id: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{logical_id}"


@dataclass
class Function:
    logical_id: str
    code_dir: Path
    handler: str
    environment: dict[str, str]
    events: dict[str, dict[str, Any]]
    _module: ModuleType | None = None

    def load(self) -> Any:
        module_name, _, attr = self.handler.rpartition(".")
        if self._module is None:
            path = self.code_dir / f"{module_name.replace('.', '/')}.py"
            unique = f"goodwill_fn_{self.logical_id}"
            spec = importlib.util.spec_from_file_location(unique, path)
            assert spec and spec.loader
            module = importlib.util.module_from_spec(spec)
            sys.modules[unique] = module
            spec.loader.exec_module(module)
            self._module = module
        return getattr(self._module, attr)

    def invoke(self, event: Any) -> Any:
        return self.load()(event, LambdaContext(self.logical_id))


class Functions:
    """Every AWS::Serverless::Function of the template, by logical id and by ARN or name."""

    def __init__(self, resolver: Resolver) -> None:
        globals_env = load().get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
        self.resolver = resolver
        self.by_id: dict[str, Function] = {}
        for logical_id, res in resources("AWS::Serverless::Function").items():
            props = res["Properties"]
            env = {**globals_env, **props.get("Environment", {}).get("Variables", {})}
            self.by_id[logical_id] = Function(
                logical_id=logical_id,
                code_dir=ROOT / props["CodeUri"],
                handler=props["Handler"],
                environment={k: str(v) for k, v in resolver.resolve(env).items()},
                events=props.get("Events", {}),
            )
        self._lock = threading.Lock()

    def get(self, name_or_arn: str) -> Function:
        name = name_or_arn.split(":function:")[-1].split(":")[0]
        return self.by_id[name]

    def merged_environment(self) -> dict[str, str]:
        """One process runs every handler, so the environments must agree on shared keys."""
        merged: dict[str, str] = {}
        for fn in self.by_id.values():
            for key, value in fn.environment.items():
                if key in PER_FUNCTION_ONLY:
                    continue
                if key in merged and merged[key] != value and not key.startswith("POWERTOOLS_"):
                    raise RuntimeError(f"functions disagree on {key}: {merged[key]} / {value}")
                merged.setdefault(key, value)
        return merged

    def install_environment(self) -> None:
        os.environ.update(self.merged_environment())
        os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
        os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
        if str(LAYER_DIR) not in sys.path:
            sys.path.insert(0, str(LAYER_DIR))


# Settings one function tunes for itself that the shared local process leaves at their defaults:
# the bulk import's DynamoDB client skips botocore's parameter check on AWS (DynamoDB checks them
# again); locally and in tests every call keeps it, so a malformed request fails here first.
PER_FUNCTION_ONLY = frozenset({"DYNAMODB_PARAM_VALIDATION"})


def invoke_bytes(functions: Functions, function_name: str, body: Any, response_headers: dict[str, Any]) -> bytes:
    """What moto's Lambda backend returns for an invoke: the handler's JSON, or its error."""
    event = json.loads(body) if body else {}
    try:
        result = functions.get(function_name).invoke(event)
    except Exception as exc:
        response_headers["x-amz-function-error"] = "Unhandled"
        return json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc)}).encode()
    return json.dumps(result).encode()

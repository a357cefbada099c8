"""The template's schedules, run locally: moto's Scheduler stores schedules but never fires them.

Every `ScheduleV2` event in template.yaml (of a state machine or a function) is a local schedule
named after the event's id in kebab case (`ExpirePoints` -> `expire-points`): a state machine is
started with the event's `Input`, a function invoked with it. The local run starts each one every
GOODWILL_LOCAL_SCHEDULE_SECONDS (default 60), and `POST /_local/schedules/{name}/run` runs one at
once and answers when its execution has finished.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from local.aws.stack import Stack
from local.aws.template import load

log = logging.getLogger("goodwill.local")
DEFAULT_SECONDS = 60.0


def _kebab(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


@dataclass(frozen=True)
class Target:
    logical_id: str
    kind: str  # AWS::Serverless::StateMachine | AWS::Serverless::Function
    input: str


def schedule_targets() -> dict[str, Target]:
    """Local schedule name -> what it starts."""
    found = {}
    for logical_id, res in load()["Resources"].items():
        for event_id, event in (res.get("Properties", {}).get("Events") or {}).items():
            if event["Type"] == "ScheduleV2":
                payload = event["Properties"].get("Input") or "{}"
                found[_kebab(event_id)] = Target(logical_id, res["Type"], payload)
    return found


def interval() -> float:
    return float(os.environ.get("GOODWILL_LOCAL_SCHEDULE_SECONDS") or DEFAULT_SECONDS)


@dataclass
class Schedules:
    stack: Stack
    targets: dict[str, Target] = field(default_factory=schedule_targets)
    _runs: Any = field(default_factory=itertools.count)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def names(self) -> list[str]:
        return sorted(self.targets)

    def run(self, name: str, timeout: float = 600.0) -> dict[str, Any]:
        """Start the schedule's state machine and wait for the execution to end (or invoke its
        function)."""
        target = self.targets[name]
        with self._lock:  # one run of a schedule at a time, as a local convenience
            if target.kind != "AWS::Serverless::StateMachine":
                result = self.stack.functions.by_id[target.logical_id].invoke(json.loads(target.input))
                return {"name": name, "status": "SUCCEEDED", "result": result}
            started = self.stack.client("stepfunctions").start_execution(
                stateMachineArn=self.stack.ref(target.logical_id),
                name=f"{name}-{os.getpid()}-{next(self._runs)}",
                input=target.input,
            )
            ended = self._wait(started["executionArn"], timeout)
        return {"name": name, "execution": ended["executionArn"], "status": ended["status"]}

    def _wait(self, execution_arn: str, timeout: float) -> dict[str, Any]:
        # Not Stack.wait_for: that one delivers stream records itself, which the local run's own
        # pump thread does (two deliverers would hand a record over twice).
        sfn = self.stack.client("stepfunctions")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found: dict[str, Any] = sfn.describe_execution(executionArn=execution_arn)
            if found["status"] != "RUNNING":
                return found
            time.sleep(0.1)
        raise TimeoutError(f"{execution_arn} still running")

    def run_forever(self, stopping: threading.Event) -> None:
        while not stopping.wait(interval()):
            for name in self.names:
                try:
                    self.run(name)
                except Exception:  # a schedule's failed run is retried at its next time
                    log.exception("schedule %s failed", name)

"""Read template.yaml (with its ! tags) and resolve the intrinsics the local run needs."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
REGION = "us-east-1"
ACCOUNT = "123456789012"


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


@lru_cache(maxsize=1)
def load() -> dict[str, Any]:
    from cfnlint.decode.cfn_yaml import load as cfn_load

    return _plain(cfn_load(str(TEMPLATE)))  # type: ignore[no-any-return]


NO_VALUE = object()  # Ref AWS::NoValue: the key or list item is left out, as CloudFormation does


@dataclass
class Resolver:
    """Resolves Ref / GetAtt / Sub / If / Equals against what the local run created."""

    refs: dict[str, str] = field(default_factory=dict)
    attrs: dict[tuple[str, str], str] = field(default_factory=dict)
    conditions: dict[str, bool] = field(default_factory=dict)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [r for r in (self.resolve(v) for v in value) if r is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((name, arg),) = value.items()
            if name == "Ref":
                return NO_VALUE if arg == "AWS::NoValue" else self.refs[arg]
            if name == "Fn::GetAtt":
                logical, attr = arg if isinstance(arg, list) else arg.split(".", 1)
                return self.attrs[(logical, attr)]
            if name == "Fn::Sub":
                return self._sub(arg)
            if name == "Fn::If":
                cond, yes, no = arg
                return self.resolve(yes if self.conditions.get(cond) else no)
            if name == "Fn::Join":
                sep, parts = arg
                return sep.join(str(self.resolve(p)) for p in parts)
        resolved = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}

    def _sub(self, arg: Any) -> str:
        text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])

        def repl(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in extra:
                return str(self.resolve(extra[name]))
            if name == "AWS::Region":
                return REGION
            if name == "AWS::AccountId":
                return ACCOUNT
            if name == "AWS::Partition":
                return "aws"
            if name == "AWS::StackName":
                return "goodwill-local"
            if "." in name:
                logical, attr = name.split(".", 1)
                return self.attrs[(logical, attr)]
            return self.refs[name]

        return re.sub(r"\$\{([^}!]+)\}", repl, text)


def resources(kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in load()["Resources"].items() if v["Type"] == kind}


def parameter_defaults() -> dict[str, str]:
    return {k: str(v.get("Default", "")) for k, v in load().get("Parameters", {}).items()}

"""template.yaml after SAM's transform, for checkov (`make lint`).

checkov reads template.yaml as written, where a function's permissions are SAM policy templates
(DynamoDBCrudPolicy, ...) that no IAM check can see. The transformed template has the IAM roles
CloudFormation will create, so the least-privilege checks run on them too. Runs with the SAM
CLI's environment (it has samtranslator), offline:

    .venv-sam/bin/python -m local.tools.sam_transform .aws-sam/checkov/template.json
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"

# Findings on resources SAM generates, accepted one resource at a time (the template cannot carry
# Metadata for them): {logical id in the transformed template: [(check, why)]}.
ACCEPTED: dict[str, list[tuple[str, str]]] = {
    "NotifyFunctionRole": [
        (
            "CKV_AWS_111",
            "sns:Publish on *: an SMS to a phone number has no resource ARN to scope it to; "
            "ses:SendEmail is scoped to the account's identities",
        )
    ],
}


def transformed() -> dict[str, Any]:
    from samtranslator.translator.transform import transform
    from samtranslator.yaml_helper import yaml_parse

    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")  # only fills in pseudo parameters
    template = yaml_parse(TEMPLATE.read_text())
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri", "DefinitionUri"):
            if isinstance(props.get(key), str):  # what `sam package` does: local folders become S3 objects
                props[key] = f"s3://packaged/{props[key].strip('/')}"

    class NoManagedPolicies:  # the template names no AWS managed policy; never call IAM
        def load(self) -> dict[str, str]:
            return {}

    result: dict[str, Any] = transform(template, {}, NoManagedPolicies())
    for logical_id, accepted in ACCEPTED.items():
        if logical_id not in result["Resources"]:
            raise SystemExit(f"{logical_id} is no longer generated: update ACCEPTED in {__file__}")
        skips = [{"id": check, "comment": why} for check, why in accepted]
        result["Resources"][logical_id].setdefault("Metadata", {})["checkov"] = {"skip": skips}
    return result


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else ROOT / ".aws-sam" / "checkov" / "template.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(transformed(), indent=1, default=str) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))

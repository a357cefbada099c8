"""`make deploy-console`: the console's files and its config.json into the stack's console bucket.

    python -m ops.deploy_console --stack-name goodwill [--source .aws-sam/console]

Reads the stack's outputs, writes `config.json` from them (API URL, hosted UI, app client: the
runtime settings are never baked into the files), uploads every file `make build` put in
`--source` with its content type, removes files no longer shipped (the bucket keeps old versions
30 days: a rollback is a restore), and invalidates the CloudFront cache. index.html goes last, so a
browser never loads a new page with old scripts. Run after every `sam deploy` (`make deploy` does).
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import time
from pathlib import Path
from typing import Any

import boto3

CONFIG_KEY = "config.json"
ENTRY_KEY = "index.html"
# Files have fixed names (no content hashes): browsers revalidate each time (cheap with ETags).
CACHE_CONTROL = "no-cache"
TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".json": "application/json"}
WANTED_OUTPUTS = (
    "ApiUrl",
    "ConsoleUrl",
    "UserPoolDomain",
    "ConsoleClientId",
    "ConsoleBucketName",
    "ConsoleDistributionId",
)


def stack_outputs(cloudformation: Any, stack_name: str) -> dict[str, str]:
    (stack,) = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    found = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    missing = [k for k in WANTED_OUTPUTS if not found.get(k)]
    if missing:
        raise SystemExit(f"stack {stack_name} has no output {', '.join(missing)}: deploy the template first")
    return found


def console_config(outputs: dict[str, str]) -> dict[str, str]:
    """config.json as the console reads it (console/README.md)."""
    site = outputs["ConsoleUrl"].rstrip("/")
    return {
        "mode": "cognito",
        "api_url": outputs["ApiUrl"].rstrip("/"),
        "cognito_domain": outputs["UserPoolDomain"].rstrip("/"),
        "client_id": outputs["ConsoleClientId"],
        # Exactly the app client's callback and sign-out URL (template.yaml, ConsoleAppClient).
        "redirect_uri": f"{site}/",
        "scope": "openid email profile",
    }


def content_type(path: Path) -> str:
    return TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def shipped_files(source: Path) -> dict[str, Path]:
    files = {p.relative_to(source).as_posix(): p for p in sorted(source.rglob("*")) if p.is_file()}
    if ENTRY_KEY not in files:
        raise SystemExit(f"{source} has no {ENTRY_KEY}: run make build first")
    files.pop(CONFIG_KEY, None)  # the local run's; the deployed one is written from the outputs
    return files


def upload(s3: Any, bucket: str, source: Path, config: dict[str, str]) -> list[str]:
    """Put every file (index.html last) and config.json; delete what is no longer shipped."""
    files = shipped_files(source)
    for key in sorted(files, key=lambda k: k == ENTRY_KEY):
        if key == ENTRY_KEY:
            _put(s3, bucket, CONFIG_KEY, json.dumps(config, indent=2).encode(), "application/json")
        _put(s3, bucket, key, files[key].read_bytes(), content_type(files[key]))
    keep = {*files, CONFIG_KEY}
    stale = [o["Key"] for page in _pages(s3, bucket) for o in page if o["Key"] not in keep]
    for start in range(0, len(stale), 1000):
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in stale[start : start + 1000]]})
    return sorted(keep)


def _put(s3: Any, bucket: str, key: str, body: bytes, kind: str) -> None:
    s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=kind, CacheControl=CACHE_CONTROL)


def _pages(s3: Any, bucket: str) -> Any:
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        yield page.get("Contents", [])


def invalidate(cloudfront: Any, distribution_id: str) -> str:
    batch = {"Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": f"deploy-console-{time.time_ns()}"}
    reply = cloudfront.create_invalidation(DistributionId=distribution_id, InvalidationBatch=batch)
    return str(reply["Invalidation"]["Id"])


def deploy(session: boto3.session.Session, stack_name: str, source: Path) -> dict[str, Any]:
    outputs = stack_outputs(session.client("cloudformation"), stack_name)
    config = console_config(outputs)
    keys = upload(session.client("s3"), outputs["ConsoleBucketName"], source, config)
    invalidation = invalidate(session.client("cloudfront"), outputs["ConsoleDistributionId"])
    return {"url": outputs["ConsoleUrl"], "files": keys, "config": config, "invalidation": invalidation}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack-name", required=True)
    parser.add_argument("--source", type=Path, default=Path(".aws-sam/console"))
    parser.add_argument("--region", default=None)
    args = parser.parse_args(argv)
    done = deploy(boto3.session.Session(region_name=args.region), args.stack_name, args.source)
    print(f"{len(done['files'])} files in place (invalidation {done['invalidation']}); open {done['url']}")


if __name__ == "__main__":
    main()

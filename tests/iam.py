"""The IAM side of the least-privilege test: what each AWS call needs, and what template.yaml grants.

`required()` turns one botocore call (service, operation, parameters) into the IAM requests AWS
authorises for it: (action, resource ARN, condition context). Transactions are authorised item by
item (Put -> dynamodb:PutItem, ConditionCheck -> dynamodb:ConditionCheckItem ...), presigned URLs
act with the signer's rights, and actions without resource-level permissions (states:SendTask*)
are requested on "*", so only a statement on "*" allows them, as on AWS.

`Grants` reads a function's `Policies` from template.yaml, resolved with the local stack's
resolver, and answers "is this request allowed" with IAM's matching rules (case-insensitive
actions, `*` and `?` wildcards, StringEquals / StringLike conditions). Anything it does not
understand (a SAM policy template, NotAction, another condition operator) is refused, so that no
permission escapes the check.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from local.aws.template import ACCOUNT, REGION, Resolver, resources


@dataclass(frozen=True)
class Request:
    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()


_TRANSACT = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem"}
# S3 operations authorised by an action of another name.
_S3_ACTIONS = {
    "HeadObject": "GetObject",
    "CreateMultipartUpload": "PutObject",
    "UploadPart": "PutObject",
    "CompleteMultipartUpload": "PutObject",
    "ListObjectsV2": "ListBucket",
}
# No resource-level permissions: IAM evaluates these against "*" only.
_NO_RESOURCE = {"states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"}


def _table(name: str) -> str:
    return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"


def _dynamodb(operation: str, params: Mapping[str, Any]) -> Iterator[Request]:
    if operation == "TransactWriteItems":
        for entry in params["TransactItems"]:
            ((kind, op),) = entry.items()
            yield Request(f"dynamodb:{_TRANSACT[kind]}", _table(op["TableName"]))
    elif operation == "TransactGetItems":
        for entry in params["TransactItems"]:
            yield Request("dynamodb:GetItem", _table(entry["Get"]["TableName"]))
    elif operation in ("BatchGetItem", "BatchWriteItem"):
        for name in params["RequestItems"]:
            yield Request(f"dynamodb:{operation}", _table(name))
    elif params.get("IndexName"):
        yield Request(f"dynamodb:{operation}", f"{_table(params['TableName'])}/index/{params['IndexName']}")
    else:
        yield Request(f"dynamodb:{operation}", _table(params["TableName"]))


def _s3(operation: str, params: Mapping[str, Any]) -> Iterator[Request]:
    bucket = f"arn:aws:s3:::{params['Bucket']}"
    if operation == "ListObjectsV2":
        yield Request("s3:ListBucket", bucket, (("s3:prefix", params.get("Prefix", "")),))
    elif operation == "DeleteObjects":
        for obj in params["Delete"]["Objects"]:
            yield Request("s3:DeleteObject", f"{bucket}/{obj['Key']}")
    else:
        yield Request(f"s3:{_S3_ACTIONS.get(operation, operation)}", f"{bucket}/{params['Key']}")


def _bus(name_or_arn: str) -> str:
    return (
        name_or_arn if name_or_arn.startswith("arn:") else f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/{name_or_arn}"
    )


def required(service: str, operation: str, params: Mapping[str, Any]) -> list[Request]:
    """The IAM requests one call makes (service is the signing name: dynamodb, s3, states ...)."""
    action = f"{service}:{operation}"
    if service == "dynamodb":
        return list(_dynamodb(operation, params))
    if service == "s3":
        return list(_s3(operation, params))
    if service == "cognito-idp":
        return [Request(action, f"arn:aws:cognito-idp:{REGION}:{ACCOUNT}:userpool/{params['UserPoolId']}")]
    if action in _NO_RESOURCE:
        return [Request(action, "*")]
    if action == "states:StartExecution":
        return [Request(action, params["stateMachineArn"])]
    if action in ("states:DescribeExecution", "states:StopExecution"):
        return [Request(action, params["executionArn"])]
    if action == "sns:Publish":
        return [Request(action, params.get("TopicArn") or params.get("TargetArn") or "*")]
    if service == "sqs" and operation in ("SendMessage", "SendMessageBatch", "ChangeMessageVisibility"):
        queue = params["QueueUrl"].rstrip("/").rsplit("/", 1)[-1]
        sqs_action = "sqs:SendMessage" if operation.startswith("SendMessage") else action
        return [Request(sqs_action, f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue}")]
    if action == "events:PutEvents":
        return [Request(action, _bus(entry.get("EventBusName", "default"))) for entry in params["Entries"]]
    if action in ("kms:Encrypt", "kms:Decrypt"):
        return [Request(action, params["KeyId"])]  # Goodwill always names the key (an ARN)
    if action in ("ses:SendEmail", "ses:SendRawEmail"):
        sender = re.sub(r".*<(.+)>.*", r"\1", params["Source"])
        return [Request(action, f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/{sender}", (("ses:FromAddress", sender),))]
    raise AssertionError(f"tests/iam.py does not know which IAM request {action} makes: teach it")


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _matches(pattern: str, value: str, ignore_case: bool = False) -> bool:
    if ignore_case:
        pattern, value = pattern.lower(), value.lower()
    return fnmatch.fnmatchcase(value, pattern.replace("[", "[[]"))


@dataclass(frozen=True)
class Statement:
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    conditions: tuple[tuple[str, str, tuple[str, ...]], ...]  # (operator, key, values)

    def allows(self, request: Request) -> str | None:
        """The (action, resource) pattern of this statement that allows `request`, if one does."""
        context = dict(request.context)
        for operator, key, wanted in self.conditions:
            if key not in context:
                return None
            exact = operator == "StringEquals"
            if not any(context[key] == w if exact else _matches(w, context[key]) for w in wanted):
                return None
        for action in self.actions:
            if not _matches(action, request.action, ignore_case=True):
                continue
            for resource in self.resources:
                if _matches(resource, request.resource):
                    return f"{action} {resource}"
        return None

    def patterns(self) -> list[str]:
        return [f"{a} {r}" for a in self.actions for r in self.resources]


def _statement(raw: Mapping[str, Any]) -> Statement:
    unknown = set(raw) - {"Effect", "Action", "Resource", "Condition", "Sid"}
    assert not unknown, f"unsupported statement keys {unknown}: the check would not see them"
    assert raw["Effect"] == "Allow", raw
    conditions = []
    for operator, keys in (raw.get("Condition") or {}).items():
        assert operator in ("StringEquals", "StringLike"), f"condition {operator} not understood"
        for key, wanted in keys.items():
            conditions.append((operator, key, tuple(str(w) for w in _as_list(wanted))))
    return Statement(
        actions=tuple(str(a) for a in _as_list(raw["Action"])),
        resources=tuple(str(r) for r in _as_list(raw["Resource"])),
        conditions=tuple(conditions),
    )


class Grants:
    """The statements template.yaml gives one function, resolved against the local stack."""

    def __init__(self, statements: list[Statement]) -> None:
        self.statements = statements

    @classmethod
    def of(cls, logical_id: str, resolver: Resolver) -> Grants:
        props = resources("AWS::Serverless::Function")[logical_id]["Properties"]
        statements = []
        for policy in props.get("Policies", []):
            assert isinstance(policy, dict) and set(policy) == {"Statement"}, (
                f"{logical_id}: {policy} is not an explicit statement; this check (and a reader) cannot see into it"
            )
            statements.extend(_statement(resolver.resolve(s)) for s in policy["Statement"])
        return cls(statements)

    def allowing(self, request: Request) -> str | None:
        for statement in self.statements:
            found = statement.allows(request)
            if found:
                return found
        return None

    def patterns(self) -> set[str]:
        return {p for s in self.statements for p in s.patterns()}


# ---------------------------------------------------------------------------------- wider than used


def _elsewhere(resource: str) -> list[str]:
    """Resources next to `resource` that a call of the same kind must not reach: another table,
    bucket, topic or state machine of the same name plus a suffix, and (for S3 objects) another
    top-level prefix of the same bucket."""
    if resource == "*":
        return []
    if resource.startswith("arn:aws:s3:::"):
        bucket, _, key = resource.removeprefix("arn:aws:s3:::").partition("/")
        found = [f"arn:aws:s3:::{bucket}-elsewhere" + (f"/{key}" if key else "")]
        if key:
            found.append(f"arn:aws:s3:::{bucket}/elsewhere/{key.partition('/')[2] or key}")
        return found
    if resource.startswith("arn:aws:ses:"):  # identity/* is scoped by ses:FromAddress (probed below)
        return [resource.replace(f":{ACCOUNT}:", ":000000000000:")]
    named = r"(arn:aws:[^:]+:[^:]*:[^:]*:(?:table/|stateMachine:|execution:|function:)?)([^/:]+)(.*)"
    match = re.match(named, resource)
    return [f"{match.group(1)}{match.group(2)}-elsewhere{match.group(3)}"] if match else []


def probes(request: Request) -> list[Request]:
    """Requests a least-privilege grant for `request` must refuse."""
    found = [Request(request.action, other, request.context) for other in _elsewhere(request.resource)]
    for i, (key, _value) in enumerate(request.context):
        outside = "elsewhere@example.com" if key == "ses:FromAddress" else "elsewhere/"
        context = (*request.context[:i], (key, outside), *request.context[i + 1 :])
        found.append(Request(request.action, request.resource, context))
    return found


def wider_than_used(grants: Grants, calls: set[Request]) -> set[str]:
    """Probes next to the recorded calls that the grants allow: a resource or a condition wider
    than the calls need."""
    return {f"{p.action} {p.resource} {dict(p.context)}" for c in calls for p in probes(c) if grants.allowing(p)}


def mutations(statement: Statement) -> list[Statement]:
    """The statement with its resources widened to "*", and without its conditions."""
    found = []
    if statement.resources != ("*",):
        found.append(Statement(statement.actions, ("*",), statement.conditions))
    if statement.conditions:
        found.append(Statement(statement.actions, statement.resources, ()))
    return found

"""S3's answer for a missing key depends on the caller's s3:ListBucket; moto always says 404.

S3 answers GetObject / HeadObject of a key that does not exist with 404 NoSuchKey only when the
caller may list the bucket; without s3:ListBucket it answers 403 AccessDenied, so that a caller
cannot learn which keys exist (docs/aws-fidelity.md). Goodwill's functions hold s3:ListBucket on
the import bucket only for the prefixes template.yaml names in their `s3:prefix` conditions
(`work/*`); presigned downloads and the workflows' ItemReader hold none. The rule here is read
from template.yaml: for every bucket a function's policy names, a missing key answers 404 under
a prefix some ListBucket statement grants and 403 anywhere else. Buckets no function policy names
(and callers outside the stack, such as tests) keep moto's 404.
"""

from __future__ import annotations

import fnmatch
from typing import Any

from local.aws.template import Resolver, resources

_rules: dict[str, list[str]] = {}


def rules_from_template(resolver: Resolver) -> dict[str, list[str]]:
    """bucket name -> key patterns its readers may list (empty: none)."""
    found: dict[str, list[str]] = {}
    for res in resources("AWS::Serverless::Function").values():
        for policy in res["Properties"].get("Policies", []):
            if not isinstance(policy, dict) or "Statement" not in policy:
                continue
            for raw in policy["Statement"]:
                statement = resolver.resolve(raw)
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                targets = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
                for target in targets:
                    if not str(target).startswith("arn:aws:s3:::"):
                        continue
                    name = str(target).removeprefix("arn:aws:s3:::").split("/", 1)[0]
                    patterns = found.setdefault(name, [])
                    if any(str(a).lower() in ("s3:listbucket", "s3:*") for a in actions):
                        patterns.extend(_prefixes(statement.get("Condition") or {}))
    return found


def _prefixes(condition: dict[str, Any]) -> list[str]:
    for operator in ("StringLike", "StringEquals"):
        wanted = condition.get(operator, {}).get("s3:prefix")
        if wanted is not None:
            return [str(w) for w in (wanted if isinstance(wanted, list) else [wanted])]
    return ["*"]


def denied(bucket: str, key: str) -> bool:
    """A missing `key` answers 403 (True) or 404 (False)."""
    patterns = _rules.get(bucket)
    return patterns is not None and not any(fnmatch.fnmatchcase(key, p) for p in patterns)


def apply(resolver: Resolver) -> None:
    """Install the template's rule (again for each new stack: bucket names may differ)."""
    from moto.s3.exceptions import S3AccessDeniedError
    from moto.s3.responses import S3Response

    _rules.clear()
    _rules.update(rules_from_template(resolver))
    if getattr(S3Response._get_key, "_goodwill_access", False):
        return
    get_key, head_object = S3Response._get_key, S3Response.head_object

    def _get_key(self: Any, validate_storage_class: bool = True) -> Any:
        key_name = self.parse_key_name()
        if self.backend.get_object(self.bucket_name, key_name) is None and denied(self.bucket_name, key_name):
            raise S3AccessDeniedError()
        return get_key(self, validate_storage_class)

    def _head_object(self: Any, bucket_name: str, query: Any, key_name: str, headers: Any) -> Any:
        if self.backend.get_object(bucket_name, key_name) is None and denied(bucket_name, key_name):
            return 403, {}, ""
        return head_object(self, bucket_name, query, key_name, headers)

    _get_key._goodwill_access = True  # type: ignore[attr-defined]
    S3Response._get_key = _get_key  # type: ignore[method-assign]
    S3Response.head_object = _head_object  # type: ignore[method-assign]

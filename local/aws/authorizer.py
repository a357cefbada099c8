"""API Gateway's Lambda REQUEST authorizer, emulated as the template configures it on GoodwillApi:
the DefaultAuthorizer's function is invoked with a REQUEST event for each new token, its answer
cached per identity source (the Authorization header) for ReauthorizeEvery seconds, its policy
evaluated against the method's ARN, its context handed to the handler as
requestContext.authorizer. A refusal (the function raising "Unauthorized") is 401; an answer whose
policy does not allow the method is 403; an authorizer that fails otherwise is 500, as on AWS.
"""

from __future__ import annotations

import fnmatch
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from local.aws.functions import Function, Functions
from local.aws.template import ACCOUNT, REGION, resources

API_ID = "local"
STAGE = "local"


@dataclass(frozen=True)
class Refused:
    status: int  # 401 refused, 403 not allowed by the policy, 500 the authorizer failed


@dataclass
class Authorizer:
    function: Function
    header: str
    ttl_seconds: int
    invocations: int = 0  # tests: whether an answer came from the cache
    _cache: dict[str, tuple[float, dict[str, Any]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def of(cls, functions: Functions) -> Authorizer | None:
        """The template's default Lambda authorizer of GoodwillApi, if it has one."""
        auth = resources("AWS::Serverless::Api")["GoodwillApi"]["Properties"].get("Auth", {})
        config = auth.get("Authorizers", {}).get(auth.get("DefaultAuthorizer", ""), {})
        arn = config.get("FunctionArn")
        if not isinstance(arn, dict) or "Fn::GetAtt" not in arn:
            return None
        target = arn["Fn::GetAtt"]
        logical_id = target[0] if isinstance(target, list) else target.split(".")[0]
        identity = config.get("Identity", {})
        headers = identity.get("Headers") or ["Authorization"]
        ttl = int(identity.get("ReauthorizeEvery", 300))
        return cls(functions.by_id[logical_id], headers[0], ttl)

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()

    def authorize(self, method: str, path: str, resource: str, headers: dict[str, str]) -> dict[str, Any] | Refused:
        """requestContext.authorizer for this request, or how API Gateway refuses it."""
        identity = next((v for k, v in headers.items() if k.lower() == self.header.lower()), "")
        if not identity:
            return Refused(401)
        method_arn = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{API_ID}/{STAGE}/{method.upper()}{path}"
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(identity)
        if cached and now < cached[0]:
            answer = cached[1]
        else:
            answer_or_refusal = self._invoke(method, path, resource, headers, method_arn)
            if isinstance(answer_or_refusal, Refused):
                return answer_or_refusal
            answer = answer_or_refusal
            if self.ttl_seconds > 0:
                with self._lock:
                    self._cache[identity] = (now + self.ttl_seconds, answer)
        if not _allows(answer.get("policyDocument") or {}, method_arn):
            return Refused(403)
        context = {k: v for k, v in (answer.get("context") or {}).items()}
        return {**context, "principalId": answer.get("principalId", ""), "integrationLatency": 0}

    def _invoke(
        self, method: str, path: str, resource: str, headers: dict[str, str], method_arn: str
    ) -> dict[str, Any] | Refused:
        event = {
            "type": "REQUEST",
            "methodArn": method_arn,
            "resource": resource,
            "path": path,
            "httpMethod": method.upper(),
            "headers": headers,
            "multiValueHeaders": {k: [v] for k, v in headers.items()},
            "requestContext": {
                "resourcePath": resource,
                "httpMethod": method.upper(),
                "stage": STAGE,
                "apiId": API_ID,
                "accountId": ACCOUNT,
                "requestId": str(uuid.uuid4()),
            },
        }
        self.invocations += 1
        try:
            answer = self.function.invoke(event)
        except Exception as exc:
            return Refused(401 if str(exc) == "Unauthorized" else 500)
        if not isinstance(answer, dict) or not answer.get("principalId"):
            return Refused(500)
        return answer


def _allows(policy: dict[str, Any], method_arn: str) -> bool:
    """IAM's evaluation of the authorizer's policy for this method: an explicit Deny wins."""
    allowed = False
    for statement in policy.get("Statement") or []:
        actions = statement.get("Action")
        actions = [actions] if isinstance(actions, str) else actions or []
        patterns = statement.get("Resource")
        patterns = [patterns] if isinstance(patterns, str) else patterns or []
        if not any(fnmatch.fnmatchcase("execute-api:Invoke", a) for a in actions):
            continue
        if any(fnmatch.fnmatchcase(method_arn, p) for p in patterns):
            if statement.get("Effect") == "Deny":
                return False
            allowed = allowed or statement.get("Effect") == "Allow"
    return allowed

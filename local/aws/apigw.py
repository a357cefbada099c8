"""API Gateway REST (payload v1) emulation: route by the template's Api events, build the event.

Tests and the local HTTP server both go through here, so both exercise the same routing the
deployed API has. Claims come from the caller (tests) or from the X-Goodwill-* headers (local run).
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from local.aws.authorizer import Authorizer, Refused
from local.aws.functions import Function, Functions

CLAIM_HEADERS = {
    "x-goodwill-org": "custom:org_id",
    "x-goodwill-actor": "sub",
    "x-goodwill-roles": "cognito:groups",
    "x-goodwill-email": "email",
}


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    pattern: re.Pattern[str]
    function: Function


class Router:
    def __init__(self, functions: Functions) -> None:
        self.routes: list[Route] = []
        # People signed in with the header claims are the console's (as if its app client issued their token).
        environment = functions.merged_environment()
        self.console_client_id = environment.get("CONSOLE_CLIENT_ID", "")
        # The pool whose app clients the local token endpoint knows (local/aws/tokens.py).
        self.user_pool_id = environment.get("USER_POOL_ID", "")
        # The API's Lambda authorizer, which verifies bearer tokens (local/aws/authorizer.py).
        self.authorizer = Authorizer.of(functions)
        for fn in functions.by_id.values():
            for event in fn.events.values():
                if event["Type"] != "Api":
                    continue
                props = event["Properties"]
                template = props["Path"]
                regex = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$"
                self.routes.append(Route(props["Method"].upper(), template, re.compile(regex), fn))

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            found = route.pattern.match(path)
            if found and route.method == method.upper():
                return route, found.groupdict()
        return None


def rest_event(
    route: Route,
    params: dict[str, str],
    method: str,
    path: str,
    query: str,
    headers: dict[str, str],
    body: str | None,
    claims: dict[str, str] | None,
    authorizer: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The handler's event. `authorizer` is the Lambda authorizer's answer; without one, `claims`
    stand for a person whose token API Gateway verified (the local header claims, the tests)."""
    if authorizer is None and claims is not None:
        authorizer = {"claims": claims}
    qs = parse_qs(query, keep_blank_values=True)
    return {
        "resource": route.template,
        "path": path,
        "httpMethod": method.upper(),
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in qs.items()} or None,
        "multiValueQueryStringParameters": qs or None,
        "pathParameters": params or None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": route.template,
            "httpMethod": method.upper(),
            "path": f"/local{path}",
            "stage": "local",
            "requestId": str(uuid.uuid4()),
            "accountId": "123456789012",
            "apiId": "local",
            "identity": {"sourceIp": "127.0.0.1", "userAgent": headers.get("user-agent", "")},
            "authorizer": authorizer,
        },
        "body": body,
        "isBase64Encoded": False,
    }


def claims_from_headers(headers: dict[str, str], console_client_id: str = "") -> dict[str, str] | None:
    """A person's claims from the X-Goodwill-* headers, as an ID token of the console app client."""
    lowered = {k.lower(): v for k, v in headers.items()}
    claims = {claim: lowered[h] for h, claim in CLAIM_HEADERS.items() if lowered.get(h)}
    if not claims:
        return None
    return {**claims, "token_use": "id", "aud": console_client_id} if console_client_id else claims


def bearer_token(headers: dict[str, str]) -> str | None:
    """The token of an Authorization header (`Bearer <token>`, or the token alone as Cognito
    authorizers also take it); None without one."""
    value = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
    if value is None:
        return None
    scheme, _, rest = value.strip().partition(" ")
    return rest.strip() if scheme.lower() == "bearer" else value.strip()


def unauthorized(status: int = 401) -> dict[str, Any]:
    """What API Gateway answers when the authorizer refuses the token (GatewayResponses): 401, or
    403 when its policy does not allow the method, or 500 when it failed."""
    code, message = {
        401: ("UNAUTHORIZED", "Unauthorized"),
        403: ("ACCESS_DENIED", "User is not authorized to access this resource"),
    }.get(status, ("AUTHORIZER_FAILURE", "Internal server error"))
    body = {"error": {"code": code, "message": message, "details": []}}
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


def not_found() -> dict[str, Any]:
    """API Gateway's MISSING_AUTHENTICATION_TOKEN as template.yaml maps it: no such path, or a
    method the path lacks."""
    body = {"error": {"code": "NOT_FOUND", "message": "no such route", "details": []}}
    return {
        "statusCode": 404,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body),
    }


def bad_request(message: str) -> dict[str, Any]:
    body = {"error": {"code": "BAD_REQUEST", "message": message, "details": []}}
    return {"statusCode": 400, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


def dispatch(
    router: Router,
    method: str,
    path: str,
    query: str,
    headers: dict[str, str],
    body: str | bytes | None,
    claims: dict[str, str] | None,
) -> dict[str, Any]:
    """The route's answer, or API Gateway's own (404, the authorizer's refusal). A body in bytes
    (the local server's) reaches the function only if it is UTF-8, else 400, after those checks."""
    matched = router.match(method, path)
    if matched is None:
        return not_found()
    route, params = matched
    token = bearer_token(headers) if claims is None else None
    authorizer: dict[str, Any] | None = None
    if token is not None:  # the Lambda authorizer: the caller's principal, or 401 before any function
        found = (
            router.authorizer.authorize(method, path, route.template, headers) if router.authorizer else Refused(401)
        )
        if isinstance(found, Refused):
            return unauthorized(found.status)
        authorizer = found
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError:  # decoded with replacement, it was stored corrupted
            return bad_request("the request body is not UTF-8")
    event = rest_event(route, params, method, path, query, headers, body, claims, authorizer)
    return route.function.invoke(event)  # type: ignore[no-any-return]

"""Resolver factory and the one place where errors become HTTP responses."""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError as RouteNotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from botocore.exceptions import ClientError

from goodwill.auth import ROUTE_SCOPES, SCOPES, Principal, Role, principal_for_request
from goodwill.errors import GoodwillError, PayloadTooLargeError, TooManyRequestsError
from goodwill.jsonutil import dumps
from goodwill.observability import logger
from goodwill.retry import BUSY_ERROR_CODES
from goodwill.settings import get_settings

_LOCATIONS = {"body", "query", "path", "header", "cookie"}

# What the OpenAPI document (local/tools/openapi.py, docs/openapi.json) says about the whole API. Plain
# data, so handlers pay nothing for it at cold start. Both schemes are verified by the template's
# Lambda authorizer (GoodwillApi's DefaultAuthorizer, functions/authorizer), which guards every route.
OPENAPI_TITLE = "Goodwill API"
OPENAPI_DESCRIPTION = (
    "Goodwill points, coupons and approvals for loyalty programmes. Every route needs a Cognito "
    "user-pool ID token whose claims give the organisation (`custom:org_id`), the actor (`sub`) and "
    "the roles (`cognito:groups`: agent, approver, admin); or, for storefronts and services, an API "
    "client's access token (client-credentials grant, scheme ApiClient) holding the operation's scope. "
    "Errors are always "
    '`{"error": {"code", "message", "details": [{"field", "message"}]}}`.'
)
OPENAPI_SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "CognitoAuthorizer": {
        "type": "apiKey",
        "name": "Authorization",
        "in": "header",
        "description": (
            "People: a Cognito user-pool ID token (the JWT itself, or `Bearer <token>`) in the "
            "Authorization header, verified by the API's Lambda authorizer."
        ),
    }
}
OPENAPI_SECURITY_SCHEMES["ApiClient"] = {
    "type": "oauth2",
    "description": (
        "API clients (storefronts, services; POST /api-clients): an access token from the Cognito user "
        "pool's token endpoint (client-credentials grant) as `Authorization: Bearer <token>`. Each "
        "operation lists the one scope that opens it to clients; operations without one are closed to them."
    ),
    "flows": {
        "clientCredentials": {
            "tokenUrl": "https://{your-pool-domain}.auth.{region}.amazoncognito.com/oauth2/token",
            "scopes": dict(SCOPES),
        }
    },
}
OPENAPI_SECURITY: list[dict[str, list[str]]] = [{"CognitoAuthorizer": []}]


def error_response(status: int, code: str, message: str, details: list[Any] | None = None) -> Response[str]:
    body = {"error": {"code": code, "message": message, "details": details or []}}
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=dumps(body))


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response[str]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=dumps(body),
        headers=headers,
    )


def _field_name(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in _LOCATIONS:
        parts = parts[1:]
    return ".".join(parts) or "body"


def _validation_response(exc: RequestValidationError) -> Response[str]:
    errors = exc.errors()
    if any(e.get("type") in ("json_invalid", "model_attributes_type") for e in errors) or any(
        e.get("type") == "dict_type" and tuple(e.get("loc", ())) == ("body",) for e in errors
    ):
        return error_response(400, "BAD_REQUEST", "the request body is not a JSON object")
    details = [{"field": _field_name(e.get("loc", ())), "message": str(e.get("msg", e.get("type")))} for e in errors]
    fields = ", ".join(sorted({d["field"] for d in details}))
    return error_response(422, "VALIDATION_ERROR", f"invalid fields: {fields}", details)


def resolve(app: APIGatewayRestResolver, event: dict[str, Any], context: Any) -> dict[str, Any]:
    """app.resolve, behind a body size limit and a JSON-only rule checked before anything parses the body.

    Powertools would parse form and multipart bodies into (usually) no fields at all, turning a
    replacement into a blank one: every Goodwill body is JSON, anything else is 415."""
    return _allow_console(event, _answer(app, event, context))


def _allow_console(event: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    """CORS: the console's origin (CONSOLE_ORIGIN) may read the answer; a page of any other origin
    gets no Access-Control-Allow-Origin, so its browser withholds the answer. (API Gateway answers
    the preflights and its own errors, template.yaml.)"""
    allowed = get_settings().console_origin
    sent = next((str(v) for k, v in (event.get("headers") or {}).items() if k.lower() == "origin"), None)
    if allowed and sent == allowed:
        cors = {"Access-Control-Allow-Origin": allowed, "Vary": "Origin"}
        response["headers"] = {**(response.get("headers") or {}), **cors}
        if response.get("multiValueHeaders") is not None:
            response["multiValueHeaders"].update({k: [v] for k, v in cors.items()})
    return response


def _answer(app: APIGatewayRestResolver, event: dict[str, Any], context: Any) -> dict[str, Any]:
    body = event.get("body") or ""
    content_type = next(
        (str(v) for k, v in (event.get("headers") or {}).items() if k.lower() == "content-type"), ""
    ).lower()
    if body and content_type and not content_type.split(";")[0].strip().endswith(("/json", "+json")):
        return {
            "statusCode": 415,
            "headers": {"Content-Type": content_types.APPLICATION_JSON},
            "body": dumps(
                {"error": {"code": "UNSUPPORTED_MEDIA_TYPE", "message": "send application/json", "details": []}}
            ),
            "isBase64Encoded": False,
        }
    limit = get_settings().max_body_bytes
    if len(body) > limit or len(body.encode()) > limit:
        message = f"the request body is larger than {limit} bytes"
        return {
            "statusCode": PayloadTooLargeError.status_code,
            "headers": {"Content-Type": content_types.APPLICATION_JSON},
            "body": dumps({"error": {"code": PayloadTooLargeError.code, "message": message, "details": []}}),
            "isBase64Encoded": False,
        }
    return app.resolve(_decoded_path(event), context)


def _decoded_path(event: dict[str, Any]) -> dict[str, Any]:
    """API Gateway's REST API hands the function the path as the client sent it, percent-encoded
    (`/customers/ada%40example.com`), and Powertools matches and passes it on as it is: a segment
    is decoded here when what it decodes to is an id's alphabet (`@`, `:`, which clients and the
    console encode). Anything else stays as sent, so the id's validation refuses it naming the field
    (a decoded `/` would name another route, a decoded newline would end Powertools' `$` early)."""
    path = str(event.get("path") or "/")
    if "%" not in path:
        return event
    return {**event, "path": "/".join(_decoded_segment(s) for s in path.split("/"))}


_ID_ALPHABET = re.compile(r"[\w.:@+-]+")  # the path ids' characters (handler.PathId; API client ids' +)


def _decoded_segment(segment: str) -> str:
    try:
        decoded = unquote(segment, errors="strict")
    except UnicodeDecodeError:  # not UTF-8 once decoded: left as sent, which no id pattern admits
        return segment
    return decoded if _ID_ALPHABET.fullmatch(decoded) else segment


def register_error_handlers(app: APIGatewayRestResolver) -> None:
    @app.exception_handler(GoodwillError)  # type: ignore[untyped-decorator]
    def _domain(exc: GoodwillError) -> Response[str]:
        if exc.status_code >= 500:
            logger.warning("domain error", extra={"code": exc.code, "error_message": exc.message})
        resp = error_response(exc.status_code, exc.code, exc.message, exc.details)
        if isinstance(exc, TooManyRequestsError):
            resp.headers["Retry-After"] = str(exc.retry_after)
        return resp

    @app.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]
    def _invalid(exc: RequestValidationError) -> Response[str]:
        return _validation_response(exc)

    @app.exception_handler(RouteNotFoundError)  # type: ignore[untyped-decorator]
    def _not_found(_: RouteNotFoundError) -> Response[str]:
        return error_response(404, "NOT_FOUND", "no such route")

    @app.exception_handler(ClientError)  # type: ignore[untyped-decorator]
    def _aws(exc: ClientError) -> Response[str]:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in BUSY_ERROR_CODES:
            logger.warning("AWS is throttling or busy", extra={"aws_error": code})
            resp = error_response(503, "SERVICE_UNAVAILABLE", "the service is busy, retry shortly")
            resp.headers["Retry-After"] = "1"
            return resp
        logger.exception("unexpected AWS error")
        return error_response(500, "INTERNAL_ERROR", "internal error")

    @app.exception_handler(Exception)  # type: ignore[untyped-decorator]
    def _unexpected(exc: Exception) -> Response[str]:
        try:
            from aws_lambda_powertools.event_handler.openapi.exceptions import (
                RequestUnsupportedContentType,
            )

            if isinstance(exc, RequestUnsupportedContentType):
                return error_response(415, "UNSUPPORTED_MEDIA_TYPE", "send application/json")
        except ImportError:  # pragma: no cover - older Powertools
            pass
        logger.exception("unhandled error")
        return error_response(int(HTTPStatus.INTERNAL_SERVER_ERROR), "INTERNAL_ERROR", "internal error")


def current_principal(app: APIGatewayRestResolver, role: Role = Role.AGENT) -> Principal:
    """The caller, from what the API's authorizer passed on: a person holding at least `role`, or an API client
    holding the scope of this route (auth.ROUTE_SCOPES; routes not listed there are closed to clients)."""
    event = app.current_event
    scope = ROUTE_SCOPES.get((event.http_method.upper(), event.resource))
    authorizer = (event.raw_event.get("requestContext") or {}).get("authorizer")
    return principal_for_request(authorizer, get_settings().console_client_id, role, scope)

"""The one handler helper: what every API function's app.py would otherwise repeat.

`Api` is the function's Powertools resolver (validation on, Goodwill's error shape), with
- `endpoint("GET /path/<id>", {200: ("Model", "what")}, role=Role.AGENT)`: a route, the least role
  it serves (people; API clients: auth.ROUTE_SCOPES) and its OpenAPI entry in one decorator. The
  operation id is the view's name in camelCase (`list_webhooks`: listWebhooks), the summary and
  description its docstring (first paragraph, then the rest), the error responses
  follow from what the route takes (a `body` parameter: 400 and 415; an id in the path: the 404
  for a bad id) plus the route's own `not_found` / `conflict`. A response model is named (a
  string: a model of the response modules, `RESPONSE_MODULES`) or given; named ones are imported,
  and every route's responses attached, only when the document is built (`get_openapi_schema`):
  requests never use them, and a handler's cold start would otherwise build ~40 models for nothing;
- `caller()`: the verified caller of the current request. Every route checks its caller (identity,
  the route's role, an API client's scope: goodwill.api.current_principal) before Powertools
  validates anything of the request, so a caller the route refuses gets 401 / 403 whatever they
  send, never a 422 telling them what the route would accept (`_CallerFirst`);
- `entry_point()`: the Lambda handler, under the logger and metrics decorators.
A Step Functions task function's handler is goodwill.task_handler's `task_entry` (it loads no resolver).

A handler module is then its routes and their wiring to services, nothing else. It takes
Powertools' `Body`, `Path`, `Query` and `Response` from here, so that its first import is
goodwill's and init's GC pause (goodwill/__init__.py) covers Powertools' import too.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler import Response as Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import OpenAPIRequestValidationMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body as Body
from aws_lambda_powertools.event_handler.openapi.params import Header
from aws_lambda_powertools.event_handler.openapi.params import Path as Path
from aws_lambda_powertools.event_handler.openapi.params import Query as Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from goodwill.api import current_principal, json_response, register_error_handlers, resolve
from goodwill.auth import Principal, Role
from goodwill.jsonutil import dumps
from goodwill.models.vocabulary import ID_PATTERN
from goodwill.observability import logger, metrics
from goodwill.task_handler import LambdaHandler

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.models import OpenAPI

View = TypeVar("View", bound=Callable[..., Any])
Model = type[BaseModel] | str  # a model, or the name of one in RESPONSE_MODULES
Successes = Mapping[int, tuple[Model, str]]
Responses = dict[int, OpenAPIResponse]
RESPONSE_MODULES = ("goodwill.models.responses", "goodwill.models.import_responses", "goodwill.models.downstream")

# Parameter types several routes share.
PathId = Annotated[str, Path(pattern=ID_PATTERN, max_length=64)]
PageLimit = Annotated[int, Query(ge=1, le=100)]
NextToken = Annotated[str | None, Query(max_length=2048)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=128)]
# `If-None-Match: *`: create only (RFC 9110 13.1.2); no entity tags, so `*` is the one value.
OnlyIfNew = Annotated[str | None, Header(alias="If-None-Match", pattern=r"^\*$")]


class _CallerFirst(OpenAPIRequestValidationMiddleware):
    """Powertools' request validation, behind the route's check of its caller.

    The resolver runs its request validation first of every route's middlewares (before the
    router's and the route's own), so no middleware of ours could come before it: this one takes
    its place (Api.__init__) and checks the caller first."""

    def handler(self, app: Any, next_middleware: NextMiddleware) -> Response[Any]:
        if isinstance(app, Api):
            app.check_caller()
        return super().handler(app, next_middleware)

    def _parse_json_data(self, app: Any) -> dict[str, Any]:
        """Powertools turns a JSONDecodeError into its 400; JSON that decodes only past Python's
        bounds (an integer of over 4,300 digits, arrays nested thousands deep) raised a plain
        ValueError or RecursionError, a 500: it is the same 400 BAD_REQUEST."""
        try:
            return super()._parse_json_data(app)
        except (ValueError, RecursionError) as exc:
            error = {"type": "json_invalid", "loc": ("body", 0), "msg": "JSON decode error", "input": {}}
            raise RequestValidationError([{**error, "ctx": {"error": type(exc).__name__}}]) from None


class Api(APIGatewayRestResolver):
    """An API function's resolver; every route of the function is tagged `tag` in the document."""

    def __init__(self, tag: str) -> None:
        super().__init__(enable_validation=True, serializer=dumps)
        self._request_validation_middleware = _CallerFirst()  # type: ignore[no-untyped-call]
        register_error_handlers(self)
        self.tag = tag
        # (METHOD, path) -> its responses, made when the document is built (get_openapi_schema)
        self._documented: dict[tuple[str, str], Callable[[], Responses]] = {}
        # (METHOD, path) -> the least role the route serves (people; API clients: auth.ROUTE_SCOPES)
        self._roles: dict[tuple[str, str], Role] = {}

    def endpoint(
        self,
        route: str,
        ok: Successes,
        *,
        role: Role,
        not_found: str | None = None,
        conflict: str | None = None,
        precondition: str | None = None,
        ids_in_path: bool | None = None,
        responses: Callable[[], Responses] | None = None,
    ) -> Callable[[View], View]:
        method, path = route.split(" ", 1)

        def register(view: View) -> View:
            summary, _, description = (inspect.getdoc(view) or "").partition("\n\n")
            first, *rest = view.__name__.split("_")
            body = "body" in inspect.signature(view).parameters
            self._roles[method.upper(), path] = role
            self._documented[method.upper(), path] = responses or (
                lambda: route_responses(
                    ok,
                    body=body,
                    ids_in_path="<" in path if ids_in_path is None else ids_in_path,
                    not_found=not_found,
                    conflict=conflict,
                    precondition=precondition,
                )
            )
            add_route = self.route(
                path,
                method,
                summary=summary.strip(),
                description=" ".join(description.split()),
                tags=[self.tag],
                operation_id=first + "".join(word.capitalize() for word in rest),
            )
            add_route(view)
            return view

        return register

    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> OpenAPI:
        """The document, each route with its responses (attached now, once)."""
        for route in self._static_routes + self._dynamic_routes:
            make = self._documented.pop((route.method, route.path), None)
            if make is not None:
                route.responses = make()
                route._dependant = route._body_field = None  # built again with the response models
        return super().get_openapi_schema(*args, **kwargs)

    def check_caller(self) -> None:
        """Before anything of the request is read: its caller, held to the route's role or scope
        (401 / 403). Powertools' own not-found route has no role: it answers 404 for anyone."""
        route = self.context.get("_route")
        role = self._roles.get((route.method, route.path)) if route is not None else None
        if role is not None:
            self.context["caller"] = current_principal(self, role)  # cleared after each request

    def caller(self) -> Principal:
        """The caller check_caller verified for this request."""
        principal = self.context.get("caller")
        if not isinstance(principal, Principal):  # a route registered without endpoint(role=...)
            raise LookupError("the route has no role: register it with endpoint(..., role=...)")
        return principal

    def entry_point(self) -> LambdaHandler:
        @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
        @metrics.log_metrics
        def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
            return resolve(self, event, context)

        return lambda_handler


def count(name: str, value: int = 1) -> None:
    """One more of `name` in the function's metrics (flushed by entry_point's decorator)."""
    metrics.add_metric(name=name, unit="Count", value=value)


def granted(outcome: Any, metric: str) -> Any:
    """The answer to a grant (points, coupon, reversal): the outcome's status code (201 applied,
    202 waiting for an approver) and body, counted as one `metric`."""
    count(metric)
    return json_response(outcome.status_code, outcome.body)


# ---------------------------------------------------------------- the document's responses of a route
_JSON = "application/json"
_ERRORS: dict[int, str] = {
    400: "BAD_REQUEST: the body is not a JSON object",
    401: "UNAUTHORIZED: no valid token, or no organisation claim",
    403: "FORBIDDEN: the caller's role may not do this",
    404: "NOT_FOUND",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE: the body is over 64 KiB",
    415: "UNSUPPORTED_MEDIA_TYPE: send application/json",
    422: "VALIDATION_ERROR: one detail per bad field",
    429: "Too many requests (API Gateway throttling)",
    503: "SERVICE_UNAVAILABLE: AWS is throttling or busy; retry after Retry-After seconds",
}


def response_model(model: Model) -> type[BaseModel]:
    """`model`, or the model of that name in the first of RESPONSE_MODULES that has one."""
    if not isinstance(model, str):
        return model
    for name in RESPONSE_MODULES:
        found = getattr(importlib.import_module(name), model, None)
        if isinstance(found, type) and issubclass(found, BaseModel):
            return found
    raise LookupError(f"no response model {model} in {', '.join(RESPONSE_MODULES)}")


def _error(status: int, description: str) -> OpenAPIResponse:
    model = response_model("ErrorResponse")
    response: OpenAPIResponse = {"description": description, "content": {_JSON: {"model": model}}}
    if status == 503:
        response["headers"] = {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}}
    return response


def route_responses(
    ok: Successes,
    *,
    body: bool = False,
    ids_in_path: bool = False,
    not_found: str | None = None,
    conflict: str | None = None,
    precondition: str | None = None,
) -> dict[int, OpenAPIResponse]:
    """The `responses=` of a route: its successes, then every error it can answer.

    Every route can answer 401, 403, 413, 422 (a bad parameter or body field), 429 and 503; `body`
    adds 400 and 415; `not_found` / `conflict` describe the route's 404 / 409. A route with ids in
    its path (`ids_in_path`) is also 404 for an id holding characters no route accepts;
    `precondition` describes a 412 (a conditional header that does not hold).
    """
    found: dict[int, OpenAPIResponse] = {
        status: {"description": text, "content": {_JSON: {"model": response_model(model)}}}
        for status, (model, text) in ok.items()
    }
    errors: dict[int, str] = {code: _ERRORS[code] for code in (401, 403, 413, 422, 429, 503)}
    if body:
        errors.update({400: _ERRORS[400], 415: _ERRORS[415]})
    reasons = [
        *([not_found] if not_found else []),
        *(["an id with characters no route accepts"] if ids_in_path else []),
    ]
    if reasons:
        errors[404] = "NOT_FOUND: " + "; ".join(reasons)
    if conflict:
        errors[409] = conflict
    if precondition:
        errors[412] = precondition
    found.update({status: _error(status, errors[status]) for status in sorted(errors)})
    return found

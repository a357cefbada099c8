"""One event per handler per thread, as in Lambda (one event per process at a time).

Powertools keeps the current event on a class attribute (`BaseRouter.current_event`) and the
route context in a dict on the resolver: fine in Lambda, where a process handles one event at a
time, but the tests and the local run call handlers from many threads in one process. This makes
both thread-local for API Gateway resolvers. Nothing here ships to AWS.
"""

from __future__ import annotations

import threading
from typing import Any

_state = threading.local()
_applied = False


def _contexts() -> dict[int, dict[str, Any]]:
    found: dict[int, dict[str, Any]] | None = getattr(_state, "contexts", None)
    if found is None:
        found = {}
        _state.contexts = found
    return found


def apply() -> None:
    global _applied
    if _applied:
        return
    from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver

    original_resolve = ApiGatewayResolver.resolve

    def resolve(self: Any, event: Any, context: Any) -> Any:
        _state.event = self._to_proxy_event(event)
        _state.lambda_context = context
        return original_resolve(self, event, context)

    def get_event(self: Any) -> Any:
        return getattr(_state, "event", None)

    def set_event(self: Any, value: Any) -> None:
        _state.event = value

    def get_context(self: Any) -> dict[str, Any]:
        return _contexts().setdefault(id(self), {})

    def set_context(self: Any, value: dict[str, Any]) -> None:
        _contexts()[id(self)] = value

    ApiGatewayResolver.resolve = resolve  # type: ignore[method-assign]
    ApiGatewayResolver.current_event = property(get_event, set_event)  # type: ignore[assignment]
    ApiGatewayResolver.lambda_context = property(
        lambda self: getattr(_state, "lambda_context", None), lambda self, v: setattr(_state, "lambda_context", v)
    )  # type: ignore[assignment]
    ApiGatewayResolver.context = property(get_context, set_context)  # type: ignore[assignment]
    _applied = True

"""Every route checks its caller before its input: a caller a route refuses (no identity, a role
below the route's, an API client without its scope) gets 401 / 403 whatever they send, never a
422 telling them what the route would accept; only a caller the route serves learns that."""

from __future__ import annotations

import pytest

from goodwill.auth import ROUTE_SCOPES, SCOPES
from local.aws.stack import Stack
from tests.integration.test_tenancy_matrix import (
    _RANKED,
    AS_ROLE,
    IDS,
    MATRIX,
    ROUTES,
    _client,
    _path,
    _without_windows,
)
from tests.support import ADMIN, Api, claims, table_items

# An invalid request of each route that takes input: an unknown body field, or a bad query parameter.
BAD_QUERIES: dict[tuple[str, str], dict[str, str]] = {
    ("GET", "/customers"): {"q": "c-1", "limit": "0"},
    ("GET", "/customers/{customer_id}/transactions"): {"limit": "0"},
    ("GET", "/customers/{customer_id}/coupons"): {"limit": "0"},
    ("GET", "/coupon-series"): {"limit": "0"},
    ("GET", "/goodwill/requests"): {"status": "NOT_A_STATUS"},
    ("GET", "/api-clients"): {"limit": "0"},
    ("GET", "/reports/goodwill"): {"group_by": "customer"},
}
WITH_INPUT = [r for r in ROUTES if MATRIX[r].body is not None or r in BAD_QUERIES]


def test_every_route_with_input_has_an_invalid_request_here() -> None:
    assert len(WITH_INPUT) >= 20
    assert set(BAD_QUERIES) <= set(ROUTES)


@pytest.mark.parametrize(("method", "template"), WITH_INPUT, ids=[f"{m} {p}" for m, p in WITH_INPUT])
def test_route_with_invalid_input_refuses_callers_it_does_not_serve_before_validating(
    api: Api, stack: Stack, method: str, template: str
) -> None:
    # Given an invalid request of the route, and an API client of the org without the route's scope
    row, scope = MATRIX[(method, template)], ROUTE_SCOPES.get((method, template))
    path, query = _path(template, IDS), BAD_QUERIES.get((method, template))
    body = {"unexpected": 1} if row.body is not None else None
    lacking = _client(api, ADMIN, [s for s in SCOPES if s != scope])[1]
    before = _without_windows(table_items(stack))

    # When callers the route refuses send it, Then they are refused as for any request
    assert api.call(method, path, body, query=query, as_=None).status == 401
    for caller in [claims(roles=""), *(AS_ROLE[r] for r in _RANKED[: _RANKED.index(row.role)])]:
        reply = api.call(method, path, body, query=query, as_=caller)
        assert (reply.status, reply.error_code) == (403, "FORBIDDEN"), (caller, reply.status, reply.body)
    reply = api.call(method, path, body, query=query, as_=None, headers=lacking)
    assert (reply.status, reply.error_code) == (403, "FORBIDDEN"), (reply.status, reply.body)
    assert _without_windows(table_items(stack)) == before

    # When callers the route serves send it, Then it is 422: the request was invalid indeed
    reply = api.call(method, path, body, query=query, as_=AS_ROLE[row.role])
    assert (reply.status, reply.error_code) == (422, "VALIDATION_ERROR"), (reply.status, reply.body)
    assert _without_windows(table_items(stack)) == before
    if scope is not None:
        holding = _client(api, ADMIN, [scope])[1]
        reply = api.call(method, path, body, query=query, as_=None, headers=holding)
        assert (reply.status, reply.error_code) == (422, "VALIDATION_ERROR"), (reply.status, reply.body)

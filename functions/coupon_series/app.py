"""Coupon series (admin writes; agents read): PUT/GET /coupon-series."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from goodwill.api import build_resolver, current_principal, json_response, resolve
from goodwill.auth import Role
from goodwill.models.common import ID_PATTERN
from goodwill.models.coupons import SeriesPutRequest
from goodwill.models.responses import SeriesPage, SeriesResponse, route_responses
from goodwill.observability import logger, metrics
from goodwill.services import coupons

app = build_resolver()

SeriesId = Annotated[str, Path(pattern=ID_PATTERN, max_length=64)]


@app.put(
    "/coupon-series/<series_id>",
    summary="Create or update a coupon series",
    description=(
        "Role: admin. With `codes` the series is a pool (a later PUT appends codes); without, it generates codes."
    ),
    tags=["Coupon series"],
    operation_id="putCouponSeries",
    responses=route_responses(
        {201: (SeriesResponse, "Created"), 200: (SeriesResponse, "Updated")},
        body=True,
        ids_in_path=True,
    ),
)
def put_series(series_id: SeriesId, body: Annotated[SeriesPutRequest, Body()]) -> Any:
    principal = current_principal(app, Role.ADMIN)
    created, view = coupons.put_series(principal, series_id, body)
    return json_response(201 if created else 200, view)


@app.get(
    "/coupon-series",
    summary="List the coupon series",
    description="Role: agent.",
    tags=["Coupon series"],
    operation_id="listCouponSeries",
    responses=route_responses({200: (SeriesPage, "A page of series")}),
)
def list_series(
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    next_token: Annotated[str | None, Query(max_length=2048)] = None,
) -> Any:
    return json_response(200, coupons.list_series(current_principal(app, Role.AGENT), limit, next_token))


@app.get(
    "/coupon-series/<series_id>",
    summary="Read a coupon series",
    description="Role: agent. Pools show how many codes are `available`.",
    tags=["Coupon series"],
    operation_id="getCouponSeries",
    responses=route_responses({200: (SeriesResponse, "The series")}, not_found="no such series", ids_in_path=True),
)
def get_series(series_id: SeriesId) -> Any:
    return json_response(200, coupons.get_series(current_principal(app, Role.AGENT), series_id))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(app, event, context)

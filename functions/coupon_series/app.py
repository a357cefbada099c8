"""Coupon series (admin writes; agents read): PUT/GET /coupon-series."""

from __future__ import annotations

from typing import Annotated, Any

from goodwill.api import json_response
from goodwill.auth import Role
from goodwill.coupons import series
from goodwill.handler import Api, Body, NextToken, OnlyIfNew, PageLimit, PathId
from goodwill.models.coupons import SeriesPutRequest

app = Api("Coupon series")


@app.endpoint(
    "PUT /coupon-series/<series_id>",
    {201: ("SeriesResponse", "Created"), 200: ("SeriesResponse", "Updated")},
    precondition="PRECONDITION_FAILED: If-None-Match: * and the series exists (nothing changed)",
    role=Role.ADMIN,
)
def put_coupon_series(
    series_id: PathId, body: Annotated[SeriesPutRequest, Body()], only_if_new: OnlyIfNew = None
) -> Any:
    """Create or update a coupon series

    Role: admin. With `codes` the series is a pool (a later PUT appends codes); without, it generates codes.
    With `If-None-Match: *` only a new series is created: an existing one is 412 and stays as it is."""
    created, view = series.put_series(app.caller(), series_id, body, only_if_new=only_if_new is not None)
    return json_response(201 if created else 200, view)


@app.endpoint("GET /coupon-series", {200: ("SeriesPage", "A page of series")}, role=Role.AGENT)
def list_coupon_series(limit: PageLimit = 25, next_token: NextToken = None) -> Any:
    """List the coupon series

    Role: agent."""
    return json_response(200, series.list_series(app.caller(), limit, next_token))


@app.endpoint(
    "GET /coupon-series/<series_id>",
    {200: ("SeriesResponse", "The series")},
    not_found="no such series",
    role=Role.AGENT,
)
def get_coupon_series(series_id: PathId) -> Any:
    """Read a coupon series

    Role: agent. Pools show how many codes are `available`."""
    return json_response(200, series.get_series(app.caller(), series_id))


lambda_handler = app.entry_point()

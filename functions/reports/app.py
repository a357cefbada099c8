"""GET /reports/goodwill - the goodwill spend report (admin), as JSON or CSV."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from goodwill.api import json_response
from goodwill.auth import Role
from goodwill.errors import ValidationFailedError
from goodwill.handler import Api, Query, Response, Responses, route_responses
from goodwill.reports import spend

app = Api("Reports")
Day = Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}-\d{2}$")]


def _responses() -> Responses:
    found = route_responses({200: ("GoodwillReportResponse", "The report")})
    found[200]["content"]["text/csv"] = {"schema": {"type": "string"}}
    return found


def _day(name: str, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ValidationFailedError.field(name, "not a date (YYYY-MM-DD)") from exc


@app.endpoint("GET /reports/goodwill", {}, responses=_responses, role=Role.ADMIN)
def get_goodwill_report(
    from_: Annotated[str | None, Query(alias="from", pattern=r"^\d{4}-\d{2}-\d{2}$")] = None,
    to: Day = None,
    group_by: Annotated[Literal["reason", "actor", "day", "program"], Query()] = "reason",
    format: Annotated[Literal["json", "csv"] | None, Query()] = None,
) -> Any:
    """Goodwill spend report

    Role: admin. Credited and debited points, requests and coupons of the org's ledger in
    `from`..`to` (UTC days, both included, at most 92; default: the last 30), grouped by
    reason, actor, day or program. CSV with `format=csv` or `Accept: text/csv`."""
    principal = app.caller()
    start, end = spend.window(_day("from", from_), _day("to", to))
    body = spend.report(principal, start, end, group_by)
    accept = next((str(v) for k, v in (app.current_event.headers or {}).items() if k.lower() == "accept"), "")
    if format == "csv" or (format is None and "text/csv" in accept):
        name = f"goodwill-{group_by}-{body['from']}-{body['to']}.csv"
        return Response(
            status_code=200,
            content_type="text/csv; charset=utf-8",
            body=spend.to_csv(body),
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return json_response(200, body)


lambda_handler = app.entry_point()

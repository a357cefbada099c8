"""The `detail` of each domain event (CONTRACT.md section 15), as published on the bus.

Every detail starts with `event_id` (stable across redeliveries: drop duplicates by it),
`org_id` and `occurred_at`, followed by the resource as the API shows it. docs/events/ holds the
JSON Schemas made from these models (`python -m local.tools.event_schemas`); a test validates what is
actually published against those files.
"""

from typing import Literal

from pydantic import Field

from goodwill.models.common import Timestamp, View
from goodwill.models.import_responses import ImportRevert, ImportTotals
from goodwill.models.responses import CouponView, GoodwillRequestResponse, TransactionView


class EventHead(View):
    event_id: str = Field(
        pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$",
        description="Stable across redeliveries: the same change always has the same id",
    )
    org_id: str
    occurred_at: Timestamp


class PointsChanged(EventHead, TransactionView):
    """A ledger entry was written (every type: goodwill, bulk rows, reversals, expiries)."""

    customer_id: str


class RequestDecided(EventHead, GoodwillRequestResponse):
    """A pending request was approved, rejected or expired."""


class CouponIssued(EventHead, CouponView):
    """A coupon was issued to a customer."""


class ImportFinished(EventHead):
    """A bulk import ended (its report is at GET /goodwill/bulk-imports/{import_id})."""

    import_id: str
    status: Literal["COMPLETED", "COMPLETED_WITH_ERRORS", "FAILED", "REVERTED", "REVERTED_WITH_ERRORS"] = Field(
        description="REVERTED / REVERTED_WITH_ERRORS: a revert of the import ended (see `revert`)"
    )
    program_id: str | None = None
    mode: Literal["ADD", "SET"] | None = None
    dry_run: bool | None = None
    notify_customers: bool | None = None
    source: Literal["API", "S3"] | None = None
    totals: ImportTotals
    created_by: str | None = None
    created_at: Timestamp
    started_at: Timestamp | None = None
    finished_at: Timestamp | None = None
    error: str | None = None
    revert: ImportRevert | None = None


class PointsExpiring(EventHead):
    """Points of a lot will expire soon (sent with the customer's reminder)."""

    customer_id: str
    program_id: str
    transaction_id: str = Field(description="The credit (lot) whose points expire")
    points: int = Field(ge=1)
    expires_at: Timestamp


DETAILS: dict[str, type[EventHead]] = {
    "Points Changed": PointsChanged,
    "Request Decided": RequestDecided,
    "Coupon Issued": CouponIssued,
    "Import Finished": ImportFinished,
    "Points Expiring": PointsExpiring,
}

"""What the API answers: response models for the OpenAPI document (routes declare them through
goodwill.handler).

Handlers return `Response` objects built from the services' `*_view` dicts, so these models never
validate anything at run time (`defer_build`: they cost nothing at cold start). They describe
those views for the document, and the schemathesis test (tests/integration/test_fuzz_api.py)
holds the handlers to them: every response must match its documented schema. Views forbid
fields they do not list, so a field added to a view without its model fails that test.
"""

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from goodwill.models.common import Channel, RequestStatus, RequestType, Source, Timestamp, View
from goodwill.models.coupons import DiscountType


# ---------------------------------------------------------------- errors
class ErrorDetail(View):
    field: str = Field(description="The field at fault, dotted for nested fields (e.g. points.max_per_request)")
    message: str


class ErrorBody(View):
    code: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]*$", examples=["VALIDATION_ERROR"])]
    message: str
    details: list[ErrorDetail] = Field(description="One entry per bad field (422); often empty otherwise")


class ErrorResponse(View):
    """Every 4xx/5xx answer of the API."""

    error: ErrorBody


# ---------------------------------------------------------------- customers and the ledger
class ExpiringView(View):
    points: int = Field(gt=0, description="The unspent remainder of a lot")
    expires_at: Timestamp


class BalanceView(View):
    current: int = Field(description="Spendable points")
    lifetime: int = Field(ge=0, description="Tier-qualifying points; never below 0")
    expiring: list[ExpiringView] = Field(
        default_factory=list, description="The next lots with an unspent remainder, soonest first (at most 5)"
    )


class CustomerResponse(View):
    customer_id: str
    name: str | None
    email: str | None
    phone: str | None
    push_endpoint_arn: str | None
    opted_out_channels: list[Channel]
    created_at: Timestamp
    updated_at: Timestamp
    balances: dict[str, BalanceView] = Field(description="Per program id; every configured program is listed")


class CustomerPage(View):
    items: list[CustomerResponse] = Field(description="Exact matches (id, e-mail) first, then by name")
    next_token: str | None = Field(description="Pass back with the same q for the next page; null on the last")


class TransactionType(StrEnum):
    GOODWILL_CREDIT = "GOODWILL_CREDIT"
    GOODWILL_DEBIT = "GOODWILL_DEBIT"
    BULK_CREDIT = "BULK_CREDIT"
    BULK_DEBIT = "BULK_DEBIT"
    BULK_SET = "BULK_SET"
    EXPIRY = "EXPIRY"
    REVERSAL = "REVERSAL"


class TransactionView(View):
    """One ledger entry: exactly one per balance change."""

    transaction_id: str = Field(description="A ULID: time-sortable")
    program_id: str
    type: TransactionType
    points: int = Field(description="Signed change of `current`")
    current_after: int
    lifetime_after: int = Field(ge=0)
    reason: str
    comment: str | None
    source: Source
    request_id: str | None = Field(description="The goodwill request that caused it, if any")
    import_id: str | None = Field(description="The bulk import that caused it, if any")
    actor: str
    created_at: Timestamp
    expires_at: Timestamp | None
    affects_tier: bool | None = Field(description="Whether `lifetime` moved with `current`")
    reverses: str | None = Field(default=None, description="A REVERSAL: the transaction it reverses")
    reversed_by: str | None = Field(default=None, description="The REVERSAL that reversed this entry, if any")
    expired_lot: str | None = Field(default=None, description="An EXPIRY: the credit whose lot expired")


class TransactionPage(View):
    items: list[TransactionView] = Field(description="Newest first")
    next_token: str | None = Field(description="Pass back as next_token for the next page; null on the last")


class DiscountView(View):
    type: DiscountType
    value: int


class CouponView(View):
    code: str
    series_id: str
    customer_id: str
    issued_at: Timestamp
    expires_at: Timestamp
    request_id: str
    discount: DiscountView | None


class CouponPage(View):
    items: list[CouponView]
    next_token: str | None


# ---------------------------------------------------------------- coupon series
class SeriesResponse(View):
    series_id: str
    name: str
    description: str | None
    discount: DiscountView
    valid_days: int
    kind: Literal["POOL", "GENERATED"] = Field(description="POOL hands out uploaded codes; GENERATED makes them")
    created_at: Timestamp
    updated_at: Timestamp
    issued: int = Field(ge=0)
    total: int | None = Field(default=None, ge=0, description="Codes uploaded (pools only)")
    available: int | None = Field(description="Codes left (pools); null for generated series")


class SeriesPage(View):
    items: list[SeriesResponse]
    next_token: str | None


# ---------------------------------------------------------------- goodwill requests
class NotificationView(View):
    channel: Channel
    status: Literal["SENT", "FAILED", "SKIPPED"]
    to: str | None = None
    message_id: str | None = None
    error: str | None = None
    at: Timestamp


class HistoryEntry(BaseModel):
    """One step of a request; steps carry details of their own (comment, transaction_id, ...)."""

    model_config = ConfigDict(extra="allow", defer_build=True)

    event: Literal["created", "approved", "rejected", "fulfilled", "failed", "expired", "notification"]
    actor: str = Field(description="Who took the step: an actor id, or `system`")
    at: Timestamp


class FailureView(View):
    code: str
    message: str


class GoodwillRequestResponse(View):
    """A goodwill request. Fields of the other type, or of steps not taken yet, are absent."""

    request_id: str
    type: RequestType
    status: RequestStatus = Field(description="PENDING_APPROVAL, then APPROVED/REJECTED/EXPIRED; FULFILLED or FAILED")
    customer_id: str
    program_id: str | None = None
    points: int | None = Field(default=None, description="The points asked for (POINTS requests)")
    approved_points: int | None = Field(default=None, description="Set when an approver changed the points")
    affects_tier: bool | None = None
    expires_at: Timestamp | None = None
    series_id: str | None = None
    reason: str
    comment: str | None = None
    customer_message: str | None = None
    notify: bool
    source: Source
    requested_by: str
    created_at: Timestamp
    decided_by: str | None = Field(default=None, description="An approver, or `system` when auto-approved")
    decided_at: Timestamp | None = None
    decision_comment: str | None = None
    transaction_id: str | None = Field(default=None, description="The ledger entry of a fulfilled points request")
    reverses: str | None = Field(default=None, description="A REVERSAL request: the ledger entry it reverses")
    coupon: CouponView | None = Field(default=None, description="The coupon of a fulfilled coupon request")
    fulfilled_at: Timestamp | None = None
    failed_at: Timestamp | None = None
    failure: FailureView | None = None
    expired_at: Timestamp | None = None
    notifications: list[NotificationView]
    history: list[HistoryEntry]


class RequestPage(View):
    items: list[GoodwillRequestResponse] = Field(description="Newest first")
    next_token: str | None


class DecisionResult(View):
    """What became of one request of a batch: `request` when decided (200), `error` otherwise."""

    request_id: str
    status: Literal[200, 403, 404, 409, 503] = Field(
        description=(
            "200 decided; 403 SELF_APPROVAL_FORBIDDEN; 404 no such request; 409 NOT_PENDING; "
            "503 SERVICE_UNAVAILABLE: AWS stayed busy for this request; send its id again"
        )
    )
    request: GoodwillRequestResponse | None = None
    error: ErrorBody | None = None


class RequestDecisionsResponse(View):
    results: list[DecisionResult] = Field(description="One per request id, in the order sent")


class PendingResponse(View):
    """202: the request waits for an approver; nothing changed yet."""

    request: GoodwillRequestResponse


class PointsGrantResponse(View):
    """201: auto-approved; the change is already applied."""

    request: GoodwillRequestResponse
    transaction: TransactionView
    balance: BalanceView


class CouponGrantResponse(View):
    """201: auto-approved; the coupon is already issued."""

    request: GoodwillRequestResponse
    coupon: CouponView

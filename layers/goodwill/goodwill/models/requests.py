"""Goodwill requests: the bodies agents send, and the statuses a request goes through."""

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AwareDatetime, Field, field_validator

from goodwill.clock import now
from goodwill.models.common import (
    Comment,
    CustomerMessage,
    EntityId,
    Points,
    ReasonCode,
    StrictModel,
)
from goodwill.models.config import ProgramId


class PointsGrantRequest(StrictModel):
    customer_id: EntityId
    program_id: ProgramId
    points: Points = Field(description="A credit if positive, a debit if negative; never 0")
    reason: ReasonCode = Field(description="One of the org's configured reason codes")
    comment: Comment | None = None
    customer_message: CustomerMessage | None = None
    expires_at: AwareDatetime | None = Field(
        default=None, description="When a credit expires (future); default: points.default_expiry_days"
    )
    affects_tier: Annotated[bool, Field(strict=True, description="Whether the points count towards tier")] = True
    notify: Annotated[bool, Field(strict=True, description="Tell the customer on their channels")] = True

    @field_validator("points")
    @classmethod
    def _non_zero(cls, value: int) -> int:
        if value == 0:
            raise ValueError("points must not be 0")
        return value

    @field_validator("expires_at")
    @classmethod
    def _future(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        try:
            # Stored and compared in UTC: a time whose UTC is past year 9999 (or before year 1)
            # cannot be recorded, so it is refused here rather than failing later.
            value.astimezone(UTC)
        except OverflowError as exc:
            raise ValueError("expires_at is out of range once converted to UTC") from exc
        if value <= now():
            raise ValueError("expires_at must be in the future")
        return value


class ReverseRequest(StrictModel):
    """POST /customers/{customer_id}/transactions/{transaction_id}/reverse (section 13)."""

    reason: ReasonCode
    comment: Comment | None = None
    notify: Annotated[bool, Field(strict=True)] = Field(
        default=True, description="Tell the customer (template POINTS_REVERSED) once the reversal is applied"
    )


class ReverseFingerprint(ReverseRequest):
    """What an Idempotency-Key of a reversal stands for: the body and the entry it names."""

    customer_id: str
    transaction_id: str

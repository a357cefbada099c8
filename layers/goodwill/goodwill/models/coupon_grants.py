"""The body of POST /goodwill/coupons (apart from the series models its handler does not need)."""

from typing import Annotated

from pydantic import Field

from goodwill.models.common import Comment, CustomerMessage, EntityId, ReasonCode, StrictModel


class CouponGrantRequest(StrictModel):
    customer_id: EntityId
    series_id: EntityId
    reason: ReasonCode
    comment: Comment | None = None
    customer_message: CustomerMessage | None = None
    notify: Annotated[bool, Field(strict=True)] = True

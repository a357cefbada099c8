"""Coupon series: a pool of uploaded codes, or generated unique codes."""

from enum import StrEnum
from typing import Annotated, Self

from pydantic import Field, StringConstraints, model_validator

from goodwill.models.common import StrictModel, listed_once

CouponCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{2,39}$")]


class DiscountType(StrEnum):
    PERCENT = "PERCENT"
    AMOUNT = "AMOUNT"


class Discount(StrictModel):
    type: DiscountType
    value: Annotated[int, Field(strict=True, ge=1, le=1_000_000)]

    @model_validator(mode="after")
    def _percent_range(self) -> Self:
        if self.type == DiscountType.PERCENT and self.value > 100:
            raise ValueError("a PERCENT discount is at most 100")
        return self

    def label(self) -> str:
        return f"{self.value}% off" if self.type == DiscountType.PERCENT else f"{self.value} off"


class SeriesPutRequest(StrictModel):
    name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    description: Annotated[str, StringConstraints(max_length=500)] | None = None
    discount: Discount
    valid_days: Annotated[int, Field(strict=True, ge=1, le=3650)]
    codes: list[CouponCode] | None = Field(default=None, min_length=1, max_length=5000)

    _unique = listed_once("codes", message="codes must be unique")

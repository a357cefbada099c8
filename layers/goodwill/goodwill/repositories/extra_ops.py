"""A write riding along in another write's transaction (a request queued with its idempotency
record, a ledger entry with the request it fulfils) that failed its condition. Apart from the
ledger, so the code that only queues requests need not import it."""

from __future__ import annotations

from goodwill.repositories.table import Cancelled


class ExtraOpFailed(Exception):
    """An operation riding along with the main write failed its condition."""

    def __init__(self, cancelled: Cancelled) -> None:
        super().__init__("transaction cancelled by an accompanying write")
        self.cancelled = cancelled


class CouponExtraOpFailed(Exception):
    """An operation riding along with a coupon's allocation (coupons.series) failed its condition."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("coupon transaction cancelled by an accompanying write")
        self.reasons = reasons

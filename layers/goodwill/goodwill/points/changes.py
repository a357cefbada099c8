"""What kind of change a ledger entry is, and the terms of a credit under the org's expiry rules:
shared by grants, approvals and bulk imports."""

from __future__ import annotations

from goodwill.clock import now_iso
from goodwill.lots import model as lots_model
from goodwill.models.config import OrgConfig


def credit_terms(config: OrgConfig, points: int, expires_at: str | None) -> tuple[str | None, str | None]:
    """(expires_at, remind_at) of a credit under the org's expiry rules (section 12)."""
    rules = config.points
    return lots_model.credit_terms(points, expires_at, rules.default_expiry_days, rules.expiry_reminder_days, now_iso())


def change_type(points: int, bulk: bool = False) -> str:
    if bulk:
        return "BULK_CREDIT" if points > 0 else "BULK_DEBIT"
    return "GOODWILL_CREDIT" if points > 0 else "GOODWILL_DEBIT"

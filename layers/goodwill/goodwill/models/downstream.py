"""Requests and answers of section 15: agent limits, webhooks and the goodwill spend report."""

from pydantic import Field

from goodwill.models.common import View


class AgentLimitsResponse(View):
    """The caller's agent daily limit for today (UTC) and what they have credited of it."""

    date: str = Field(description="The UTC day, YYYY-MM-DD")
    agent_daily_limit: int | None = Field(
        description="Points the caller may credit today without approval; null: no limit applies "
        "(the org sets none, or the caller is an approver or admin)"
    )
    used: int = Field(ge=0, description="Points the caller's auto-approved credits took today")
    remaining: int | None = Field(ge=0, description="Points left today; null without a limit")


class ReportRow(View):
    key: str = Field(description="The reason, actor, program (`-` for coupons) or day (YYYY-MM-DD)")
    credited: int = Field(ge=0, description="Sum of the points of credits")
    debited: int = Field(ge=0, description="Sum of |points| of debits")
    requests: int = Field(ge=0, description="Ledger entries of goodwill requests, and coupons issued")
    coupons: int = Field(ge=0, description="Coupons issued")


class GoodwillReportResponse(View):
    """Exact totals of the ledger entries and coupons of the org in the range (UTC days, both included)."""

    items: list[ReportRow] = Field(description="One per key, sorted by key")
    from_: str = Field(alias="from", description="YYYY-MM-DD")
    to: str = Field(description="YYYY-MM-DD")
    group_by: str

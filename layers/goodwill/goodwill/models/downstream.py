"""Requests and answers of section 15: agent limits, webhooks and the goodwill spend report."""

from __future__ import annotations

from pydantic import Field

from goodwill.models.responses import View


class AgentLimitsResponse(View):
    """The caller's agent daily limit for today (UTC) and what they have credited of it."""

    date: str = Field(description="The UTC day, YYYY-MM-DD")
    agent_daily_limit: int | None = Field(
        description="Points the caller may credit today without approval; null: no limit applies "
        "(the org sets none, or the caller is an approver or admin)"
    )
    used: int = Field(ge=0, description="Points the caller's auto-approved credits took today")
    remaining: int | None = Field(ge=0, description="Points left today; null without a limit")

"""Agent daily limits: how many points an agent may credit a day without an approver.

One counter item per agent and UTC day (`ORG#{org}#AGENT#{actor}`, `LIMIT#{day}`) is raised in the
same transaction as the grant it counts, on the condition that it stays within the org's
`points.agent_daily_limit`. The limit is therefore exact under any concurrency, and only one
agent's own grants ever contend for their counter (never the whole org). A grant the condition
refuses is queued for approval instead (202), with the reason in its history.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from goodwill.auth import Principal, Role
from goodwill.clock import now
from goodwill.models.config import OrgConfig
from goodwill.repositories import keys, table
from goodwill.repositories.table import Item

REASON = "AGENT_DAILY_LIMIT"
# Counters are kept two days past their day (DynamoDB TTL): long enough to answer GET /me/limits.
KEEP = timedelta(days=2)


class Allowance(NamedTuple):
    """An agent's limit for one UTC day, and what they have used of it."""

    org_id: str
    actor: str
    day: str
    limit: int | None
    used: int

    @property
    def remaining(self) -> int | None:
        return None if self.limit is None else max(self.limit - self.used, 0)

    def allows(self, points: int) -> bool:
        return self.limit is None or self.used + points <= self.limit

    def key(self) -> dict[str, str]:
        return keys.agent_day(self.org_id, self.actor, self.day)

    def view(self) -> dict[str, Any]:
        return {
            "date": self.day,
            "agent_daily_limit": self.limit,
            "used": self.used,
            "remaining": self.remaining,
        }

    def reason(self, points: int) -> str:
        return (
            f"{self.actor} has credited {self.used} of the {self.limit} points an agent may credit on "
            f"{self.day} (UTC) without approval; {points} more would pass the limit"
        )


def limited(principal: Principal, config: OrgConfig) -> bool:
    """Whether the caller's credits count against the org's agent daily limit: a person below
    approver. An API client is no agent: its rate limit, max_per_request and the approval threshold
    bound it (it cannot read /me/limits either)."""
    limit = config.points.agent_daily_limit
    return limit is not None and not principal.is_client and not principal.has(Role.APPROVER)


def today(at: datetime | None = None) -> str:
    return (at or now()).date().isoformat()


def allowance(principal: Principal, config: OrgConfig, counter: Item | None, day: str) -> Allowance:
    limit = config.points.agent_daily_limit if limited(principal, config) else None
    return Allowance(principal.org_id, principal.actor, day, limit, int((counter or {}).get("used", 0)))


def read(principal: Principal, config: OrgConfig) -> Allowance:
    day = today()
    return allowance(principal, config, table.get(keys.agent_day(principal.org_id, principal.actor, day)), day)


def count_op(allowance: Allowance, points: int) -> dict[str, Any]:
    """Raise the counter by `points`, on the condition that it stays within the limit."""
    assert allowance.limit is not None
    expires = datetime.strptime(allowance.day, "%Y-%m-%d").replace(tzinfo=UTC) + timedelta(days=1) + KEEP
    return table.update_op(
        allowance.key(),
        "ADD used :p SET #ttl = if_not_exists(#ttl, :ttl)",
        names={"#ttl": "ttl"},
        vals={":p": points, ":room": allowance.limit - points, ":ttl": int(expires.timestamp())},
        condition="attribute_not_exists(used) OR used <= :room",
    )

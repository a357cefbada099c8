"""Who is calling: authorizer claims -> Principal, and role checks."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from goodwill.errors import ForbiddenError, UnauthorizedError

ORG_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


class Role(StrEnum):
    AGENT = "agent"
    APPROVER = "approver"
    ADMIN = "admin"


# A role includes every role below it: admin > approver > agent.
_RANK = {Role.AGENT: 1, Role.APPROVER: 2, Role.ADMIN: 3}


class Claims(BaseModel):
    """The Cognito claims API Gateway hands over in requestContext.authorizer.claims."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    org_id: str = Field(alias="custom:org_id", pattern=ORG_ID_PATTERN)
    sub: str = Field(min_length=1, max_length=128)
    email: str | None = Field(default=None, max_length=254)
    groups: list[str] = Field(default_factory=list, alias="cognito:groups")

    @field_validator("groups", mode="before")
    @classmethod
    def _split_groups(cls, value: Any) -> list[str]:
        # REST APIs pass "a,b"; HTTP APIs and some tools pass "[a b]" or a JSON list.
        if value is None:
            return []
        if isinstance(value, list):
            return [str(v).strip() for v in value if str(v).strip()]
        return [g for g in re.split(r"[,\s]+", str(value).strip("[]")) if g]


class Principal(BaseModel):
    model_config = ConfigDict(frozen=True)

    org_id: str
    actor: str
    roles: frozenset[Role]
    email: str | None = None

    @property
    def rank(self) -> int:
        return max((_RANK[r] for r in self.roles), default=0)

    def require(self, role: Role) -> Principal:
        if self.rank < _RANK[role]:
            raise ForbiddenError(f"this action needs the {role.value} role")
        return self

    def has(self, role: Role) -> bool:
        return self.rank >= _RANK[role]


def principal_from_claims(claims: dict[str, Any] | None) -> Principal:
    if not claims or not claims.get("custom:org_id"):
        raise UnauthorizedError("the caller has no organisation claim (custom:org_id)")
    try:
        parsed = Claims.model_validate(claims)
    except ValidationError as exc:
        raise UnauthorizedError("the caller's claims are malformed") from exc
    roles = frozenset(Role(g.lower()) for g in parsed.groups if g.lower() in Role._value2member_map_)
    return Principal(org_id=parsed.org_id, actor=parsed.sub, roles=roles, email=parsed.email)

"""The bodies of the deciding routes: approve, reject, and many requests decided at once."""

from enum import StrEnum
from typing import Annotated

from pydantic import Field, ValidationInfo, field_validator

from goodwill.models.common import Comment, EntityId, Points, StrictModel, listed_once


class ApproveRequest(StrictModel):
    comment: Comment | None = None
    points: Points | None = None


class RejectRequest(StrictModel):
    comment: Annotated[str, Field(min_length=1, max_length=500)]


class Decision(StrEnum):
    APPROVE = "APPROVE"
    REJECT = "REJECT"


MAX_DECISIONS = 50


class RequestDecisionsRequest(StrictModel):
    """Decide up to 50 requests at once, each exactly as its own approve / reject would."""

    decision: Decision
    request_ids: list[EntityId] = Field(min_length=1, max_length=MAX_DECISIONS)
    comment: Annotated[Comment | None, Field(validate_default=True)] = None

    _once_each = listed_once("request_ids", message="name each request once")

    @field_validator("comment")
    @classmethod
    def _required_to_reject(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("decision") is Decision.REJECT and not value:
            raise ValueError("required to reject")
        return value

    def single(self) -> ApproveRequest | RejectRequest:
        """The body each request's own route would have been sent."""
        if self.decision is Decision.APPROVE:
            return ApproveRequest(comment=self.comment)
        return RejectRequest(comment=self.comment or "")

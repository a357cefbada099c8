"""Webhooks: the PUT body, and what GET answers."""

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from goodwill.models.common import StrictModel, Timestamp, View, listed_once

EventType = Literal["Points Changed", "Request Decided", "Coupon Issued", "Import Finished", "Points Expiring"]


class WebhookRequest(StrictModel):
    url: Annotated[str, StringConstraints(min_length=1, max_length=2048)] = Field(
        description="https only; the host must resolve to public addresses"
    )
    event_types: list[EventType] = Field(min_length=1, max_length=5, description="Detail-types to deliver")
    enabled: bool = True
    description: Annotated[str, StringConstraints(max_length=200)] | None = None

    _unique = listed_once("event_types", message="an event type may be listed once")


class AttemptView(View):
    event_id: str
    event_type: str
    at: Timestamp
    attempt: int = Field(ge=1, description="1 for the first try of this event, then each retry")
    status_code: int | None = Field(description="The receiver's HTTP status; null when none came back")
    error: str | None = Field(description="Why the attempt failed; null when it succeeded")
    outcome: Literal["DELIVERED", "RETRYING", "DEAD_LETTERED", "DROPPED"]
    duration_ms: int = Field(ge=0)


class WebhookResponse(View):
    webhook_id: str
    url: str
    event_types: list[EventType]
    enabled: bool
    description: str | None = None
    created_at: Timestamp
    updated_at: Timestamp
    secret: str | None = Field(
        default=None, description="whsec_...: only in the answer that created the webhook; keep it"
    )
    last_attempts: list[AttemptView] | None = Field(
        default=None, description="The latest delivery attempts, newest first (GET /webhooks/{webhook_id})"
    )


class WebhookPage(View):
    items: list[WebhookResponse]
    next_token: str | None

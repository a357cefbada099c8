"""API clients: what an admin sends, and what the API answers (CONTRACT.md section 14)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints

from goodwill.models.common import StrictModel, Timestamp, View, listed_once


class Scope(StrEnum):
    POINTS_WRITE = "goodwill/points.write"
    COUPONS_WRITE = "goodwill/coupons.write"
    CUSTOMERS_READ = "goodwill/customers.read"
    CUSTOMERS_WRITE = "goodwill/customers.write"
    REQUESTS_READ = "goodwill/requests.read"


ClientName = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]+$")]


class ApiClientCreateRequest(StrictModel):
    name: ClientName = Field(description="What the client is, e.g. 'Web shop back end'")
    scopes: list[Scope] = Field(min_length=1, max_length=len(Scope), description="What the client may do")
    rate_limit_per_second: int = Field(default=50, ge=1, le=1000, description="Requests per second")

    _distinct = listed_once("scopes", message="a scope is listed twice")


class ApiClientStatus(StrEnum):
    ACTIVE = "ACTIVE"
    REVOKED = "REVOKED"


class ApiClientResponse(View):
    client_id: str = Field(description="The Cognito app client id; the client's tokens carry it")
    name: str
    scopes: list[Scope] = Field(description="What the client may do; a token gets no more than these")
    rate_limit_per_second: int = Field(description="Requests per second before it is answered 429")
    status: ApiClientStatus = Field(description="REVOKED: every token of the client is refused at once")
    created_at: Timestamp
    created_by: str = Field(description="The admin who created it")
    revoked_at: Timestamp | None = None
    revoked_by: str | None = Field(default=None, description="The admin who revoked it")


class ApiClientCreatedResponse(ApiClientResponse):
    client_secret: str = Field(description="Shown only in this answer: Goodwill does not keep it")
    token_url: str = Field(description="The OAuth 2.0 token endpoint (client-credentials grant)")


class ApiClientPage(View):
    items: list[ApiClientResponse] = Field(description="Newest first, revoked ones included")
    next_token: str | None

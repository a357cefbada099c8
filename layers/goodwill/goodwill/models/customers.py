"""Customers: what an admin may write, what readers get back."""

from pydantic import Field, field_validator

from goodwill.models.common import E164, Channel, EmailAddress, SnsEndpointArn, StrictModel, push_endpoint_allowed


class CustomerPutRequest(StrictModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    email: EmailAddress | None = None
    phone: E164 | None = None
    push_endpoint_arn: SnsEndpointArn | None = None
    opted_out_channels: list[Channel] = Field(default_factory=list, max_length=3)

    @field_validator("push_endpoint_arn")
    @classmethod
    def _configured_app(cls, value: str | None) -> str | None:
        if value and not push_endpoint_allowed(value):
            raise ValueError("must be an endpoint of a platform application configured for this stack")
        return value

    @field_validator("email")
    @classmethod
    def _lower(cls, value: str | None) -> str | None:
        return value.lower() if value else value

    @field_validator("opted_out_channels")
    @classmethod
    def _unique(cls, value: list[Channel]) -> list[Channel]:
        return sorted(set(value), key=list(Channel).index)

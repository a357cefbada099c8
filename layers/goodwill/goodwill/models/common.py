"""Shared field types for external input."""

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from goodwill.models.vocabulary import (
    CODE_PATTERN,
    ID_PATTERN,
    ORG_ID_PATTERN,
    Channel,
    RequestStatus,
    RequestType,
    Source,
)

# The vocabulary's names are models.common's too (where most of the code takes them from).
__all__ = ["CODE_PATTERN", "ID_PATTERN", "ORG_ID_PATTERN", "Channel", "RequestStatus", "RequestType", "Source"]

EntityId = Annotated[str, StringConstraints(pattern=ID_PATTERN, max_length=64)]
ReasonCode = Annotated[str, StringConstraints(pattern=CODE_PATTERN)]
Comment = Annotated[str, StringConstraints(max_length=500)]
CustomerMessage = Annotated[str, StringConstraints(max_length=300)]
E164 = Annotated[str, StringConstraints(pattern=r"^\+[1-9]\d{6,14}$")]
EmailAddress = Annotated[
    str,
    StringConstraints(
        pattern=r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$",
        max_length=254,
    ),
]
SnsEndpointArn = Annotated[
    str,
    StringConstraints(pattern=r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:endpoint/[A-Za-z0-9_./-]+$", max_length=512),
]
Points = Annotated[int, Field(strict=True)]


def listed_once(*fields: str, message: str) -> Any:
    """A model's validator: each item of these list fields appears once; `message` names a repeat
    (the 422's words). Use it as a class attribute: `_once = listed_once("scopes", message=...)`."""

    def check(value: list[Any] | None) -> list[Any] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError(message)
        return value

    return field_validator(*fields)(check)


def push_endpoint_allowed(endpoint_arn: str) -> bool:
    """Whether the endpoint belongs to a platform application configured for the stack
    (PushPlatformApplications): arn:...:app/GCM/name owns arn:...:endpoint/GCM/name/<id>."""
    from goodwill.settings import get_settings

    apps = [a.strip() for a in get_settings().push_platform_applications.split(",") if a.strip()]
    return any(endpoint_arn.startswith(app.replace(":app/", ":endpoint/", 1) + "/") for app in apps)


class StrictModel(BaseModel):
    """External input: unknown fields are an error, points are never floats or strings."""

    # defer_build: a model's validator is built when first used, not when its module is imported;
    # a handler imports far more models (config, every route's body) than one request touches.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)


class View(BaseModel):
    """An answer's model (goodwill.models.responses): it documents a view, never validates one."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


Timestamp = Annotated[datetime, Field(description="ISO 8601 UTC, e.g. 2026-11-23T10:00:00.000Z")]

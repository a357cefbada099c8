"""The plain vocabulary the models and the identity code share: id patterns and enumerations.

No pydantic here: the API's authorizer and the identity decision of every request use these
without loading pydantic's model machinery (about 40 ms of the authorizer's cold start).
"""

from enum import StrEnum

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$"
ORG_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
CODE_PATTERN = r"^[A-Z][A-Z0-9_]{0,39}$"


class Channel(StrEnum):
    SMS = "SMS"
    EMAIL = "EMAIL"
    PUSH = "PUSH"


# Where a change came from: derived from who calls (goodwill.auth), never sent by a caller.
class Source(StrEnum):
    API = "API"
    CONSOLE = "CONSOLE"
    BULK_IMPORT = "BULK_IMPORT"
    SYSTEM = "SYSTEM"  # what Goodwill does by itself: expiring lots


class RequestStatus(StrEnum):
    PENDING_APPROVAL = "PENDING_APPROVAL"
    APPROVED = "APPROVED"
    FULFILLED = "FULFILLED"
    FAILED = "FAILED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"


class RequestType(StrEnum):
    POINTS = "POINTS"
    COUPON = "COUPON"
    REVERSAL = "REVERSAL"

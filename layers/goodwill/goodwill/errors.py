"""Domain errors: each carries its HTTP status and error code; api.py maps them once.

A subclass names them in its class line, `class NotPendingError(ConflictError, code="NOT_PENDING")`,
and inherits the status (or the code) it does not name.
"""

from __future__ import annotations

from typing import Any, ClassVar


class GoodwillError(Exception):
    status_code: ClassVar[int] = 500
    code: ClassVar[str] = "INTERNAL_ERROR"

    def __init_subclass__(cls, *, status_code: int | None = None, code: str | None = None) -> None:
        super().__init_subclass__()
        if status_code is not None:
            cls.status_code = status_code
        if code is not None:
            cls.code = code

    def __init__(self, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


class UnauthorizedError(GoodwillError, status_code=401, code="UNAUTHORIZED"): ...


class ForbiddenError(GoodwillError, status_code=403, code="FORBIDDEN"): ...


class SelfApprovalForbiddenError(ForbiddenError, code="SELF_APPROVAL_FORBIDDEN"): ...


class NotFoundError(GoodwillError, status_code=404, code="NOT_FOUND"): ...


class ConflictError(GoodwillError, status_code=409, code="CONFLICT"): ...


class InsufficientBalanceError(ConflictError, code="INSUFFICIENT_BALANCE"): ...


class IdempotencyKeyReusedError(ConflictError, code="IDEMPOTENCY_KEY_REUSED"): ...


class NotPendingError(ConflictError, code="NOT_PENDING"): ...


class SeriesExhaustedError(ConflictError, code="SERIES_EXHAUSTED"): ...


class AlreadyReversedError(ConflictError, code="ALREADY_REVERSED"): ...


class NotReversibleError(ConflictError, code="NOT_REVERSIBLE"): ...


class PreconditionFailedError(GoodwillError, status_code=412, code="PRECONDITION_FAILED"): ...


class PayloadTooLargeError(GoodwillError, status_code=413, code="PAYLOAD_TOO_LARGE"): ...


class ValidationFailedError(GoodwillError, status_code=422, code="VALIDATION_ERROR"):
    @classmethod
    def field(cls, field: str, message: str) -> ValidationFailedError:
        return cls(f"{field}: {message}", [{"field": field, "message": message}])


class ServiceUnavailableError(GoodwillError, status_code=503, code="SERVICE_UNAVAILABLE"): ...


class TooManyRequestsError(GoodwillError, status_code=429, code="TOO_MANY_REQUESTS"):
    retry_after = 1

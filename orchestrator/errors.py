"""Domain errors. The transport maps each to a gRPC status in one place (orchestrator.api.status).

OrchestratorError            every error a caller may see; `reason` is UPPER_SNAKE_CASE
├── InvalidArgumentError     bad fields, missing variables, template syntax (with field violations)
├── NotFoundError            unknown template, version or model
├── AlreadyExistsError       a template version that exists with other content
├── FailedPreconditionError  no configured model can satisfy the request
├── ResourceExhaustedError   rate limits, budgets, load shedding (with retry_after)
├── AbortedError             an etag that no longer matches
├── UnavailableError         every route to a model failed; retrying later may help
├── DeadlineExceededError    the caller's deadline passed
└── InternalError            a bug; the message never carries internals
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class ErrorKind(enum.Enum):
    """Canonical error classes (the same names as gRPC's codes, without importing grpc here)."""

    INVALID_ARGUMENT = "INVALID_ARGUMENT"
    NOT_FOUND = "NOT_FOUND"
    ALREADY_EXISTS = "ALREADY_EXISTS"
    FAILED_PRECONDITION = "FAILED_PRECONDITION"
    RESOURCE_EXHAUSTED = "RESOURCE_EXHAUSTED"
    ABORTED = "ABORTED"
    UNAVAILABLE = "UNAVAILABLE"
    DEADLINE_EXCEEDED = "DEADLINE_EXCEEDED"
    CANCELLED = "CANCELLED"
    INTERNAL = "INTERNAL"


@dataclass(frozen=True, slots=True)
class FieldViolation:
    """One bad request field: a dotted path (e.g. `variables.requirement`) and what is wrong."""

    field: str
    description: str


@dataclass(frozen=True, slots=True)
class QuotaViolation:
    subject: str
    description: str


@dataclass(eq=False)
class OrchestratorError(Exception):
    """Base of every error a caller may see."""

    message: str
    reason: str = "INTERNAL"
    field_violations: list[FieldViolation] = field(default_factory=list)
    quota_violations: list[QuotaViolation] = field(default_factory=list)
    # Seconds after which a retry may succeed (rate limits, circuit cooldowns).
    retry_after: float | None = None
    # Non-secret facts for ErrorInfo.metadata (e.g. the template id).
    metadata: dict[str, str] = field(default_factory=dict)
    # The model attempts made before the failure (for metrics and logs; not sent to callers).
    attempts: tuple[Any, ...] = ()
    kind = ErrorKind.INTERNAL

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class InvalidArgumentError(OrchestratorError):
    kind = ErrorKind.INVALID_ARGUMENT


class NotFoundError(OrchestratorError):
    kind = ErrorKind.NOT_FOUND


class AlreadyExistsError(OrchestratorError):
    kind = ErrorKind.ALREADY_EXISTS


class FailedPreconditionError(OrchestratorError):
    kind = ErrorKind.FAILED_PRECONDITION


class ResourceExhaustedError(OrchestratorError):
    kind = ErrorKind.RESOURCE_EXHAUSTED


class AbortedError(OrchestratorError):
    kind = ErrorKind.ABORTED


class UnavailableError(OrchestratorError):
    kind = ErrorKind.UNAVAILABLE


class DeadlineExceededError(OrchestratorError):
    kind = ErrorKind.DEADLINE_EXCEEDED


class InternalError(OrchestratorError):
    kind = ErrorKind.INTERNAL


def invalid_fields(
    message: str, violations: list[FieldViolation], reason: str = "INVALID_REQUEST"
) -> InvalidArgumentError:
    """An INVALID_ARGUMENT error listing every bad field."""
    return InvalidArgumentError(message, reason=reason, field_violations=violations)

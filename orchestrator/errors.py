"""Every domain error and every error reason, in one place. The transport maps them to gRPC statuses in
one module (orchestrator.api.status); nothing here imports grpc.

OrchestratorError            every error a caller may see; `reason` is a `Reason` (UPPER_SNAKE_CASE)
├── InvalidArgumentError     bad fields, missing variables, template syntax (with field violations)
├── NotFoundError            unknown template, version or model
├── AlreadyExistsError       a template version that exists with other content
├── PermissionDeniedError    a caller using what it may not
├── UnauthenticatedError     no or an unknown credential
├── FailedPreconditionError  no configured model can satisfy the request
│   └── InvalidModelOutputError  the model answered, but not in the requested shape
├── ResourceExhaustedError   rate limits, budgets, load shedding (with retry_after)
├── AbortedError             an etag that no longer matches; a conflicting concurrent request
├── UnavailableError         every route to a model failed; retrying later may help
├── DeadlineExceededError    the caller's deadline passed
└── InternalError            a bug; the message never carries internals

ConfigError (not an OrchestratorError) stops start-up; its message names each bad configuration path.
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
    PERMISSION_DENIED = "PERMISSION_DENIED"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FAILED_PRECONDITION = "FAILED_PRECONDITION"
    RESOURCE_EXHAUSTED = "RESOURCE_EXHAUSTED"
    ABORTED = "ABORTED"
    UNAVAILABLE = "UNAVAILABLE"
    DEADLINE_EXCEEDED = "DEADLINE_EXCEEDED"
    CANCELLED = "CANCELLED"
    INTERNAL = "INTERNAL"


class Reason(enum.StrEnum):
    """The ErrorInfo reason of every error a caller, a log line or a metric label may carry."""

    # Request shape
    INVALID_REQUEST = "INVALID_REQUEST"
    MALFORMED_REQUEST = "MALFORMED_REQUEST"
    EMPTY_REQUEST = "EMPTY_REQUEST"
    INVALID_JSON_SCHEMA = "INVALID_JSON_SCHEMA"
    INVALID_PAGE_TOKEN = "INVALID_PAGE_TOKEN"
    # Templates
    TEMPLATE_NOT_FOUND = "TEMPLATE_NOT_FOUND"
    TEMPLATE_VERSION_EXISTS = "TEMPLATE_VERSION_EXISTS"
    INVALID_TEMPLATE = "INVALID_TEMPLATE"
    INVALID_VARIABLES_SCHEMA = "INVALID_VARIABLES_SCHEMA"
    TEMPLATE_TOO_LARGE = "TEMPLATE_TOO_LARGE"
    TEMPLATE_SYNTAX_ERROR = "TEMPLATE_SYNTAX_ERROR"
    TEMPLATE_TOO_COMPLEX = "TEMPLATE_TOO_COMPLEX"
    TEMPLATE_RENDER_LIMIT = "TEMPLATE_RENDER_LIMIT"
    TEMPLATE_RENDER_FAILED = "TEMPLATE_RENDER_FAILED"
    TEMPLATE_SECURITY_VIOLATION = "TEMPLATE_SECURITY_VIOLATION"
    TEMPLATE_VARIABLE_UNDEFINED = "TEMPLATE_VARIABLE_UNDEFINED"
    MISSING_TEMPLATE_VARIABLES = "MISSING_TEMPLATE_VARIABLES"
    VARIABLES_SCHEMA_MISMATCH = "VARIABLES_SCHEMA_MISMATCH"
    TEMPLATE_STORE_UNAVAILABLE = "TEMPLATE_STORE_UNAVAILABLE"
    TEMPLATE_RENDERER_UNAVAILABLE = "TEMPLATE_RENDERER_UNAVAILABLE"
    ETAG_MISMATCH = "ETAG_MISMATCH"
    # Models and routing
    MODEL_NOT_FOUND = "MODEL_NOT_FOUND"
    NO_ELIGIBLE_MODEL = "NO_ELIGIBLE_MODEL"
    ALL_ROUTES_FAILED = "ALL_ROUTES_FAILED"
    STREAM_INTERRUPTED = "STREAM_INTERRUPTED"
    INVALID_MODEL_OUTPUT = "INVALID_MODEL_OUTPUT"
    CONTEXT_LENGTH_EXCEEDED = "CONTEXT_LENGTH_EXCEEDED"
    # Upstream failures, as classified by the provider adapters (ProviderErrorKind's values)
    UPSTREAM_RATE_LIMITED = "UPSTREAM_RATE_LIMITED"
    UPSTREAM_UNAVAILABLE = "UPSTREAM_UNAVAILABLE"
    UPSTREAM_TIMEOUT = "UPSTREAM_TIMEOUT"
    UPSTREAM_STREAM_STALLED = "UPSTREAM_STREAM_STALLED"
    CONTENT_FILTERED = "CONTENT_FILTERED"
    UPSTREAM_INVALID_REQUEST = "UPSTREAM_INVALID_REQUEST"
    UPSTREAM_MODEL_NOT_FOUND = "UPSTREAM_MODEL_NOT_FOUND"
    UPSTREAM_AUTH_FAILED = "UPSTREAM_AUTH_FAILED"
    UPSTREAM_MALFORMED_RESPONSE = "UPSTREAM_MALFORMED_RESPONSE"
    # Conversations and knowledge
    CONVERSATION_NOT_FOUND = "CONVERSATION_NOT_FOUND"
    CONVERSATION_BUSY = "CONVERSATION_BUSY"
    CONVERSATION_STORE_UNAVAILABLE = "CONVERSATION_STORE_UNAVAILABLE"
    COLLECTION_NOT_FOUND = "COLLECTION_NOT_FOUND"
    COLLECTION_NOT_OWNED = "COLLECTION_NOT_OWNED"
    KNOWLEDGE_STORE_UNAVAILABLE = "KNOWLEDGE_STORE_UNAVAILABLE"
    # Identity, rights and budgets
    UNAUTHENTICATED = "UNAUTHENTICATED"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    TASK_NOT_ALLOWED = "TASK_NOT_ALLOWED"
    MODEL_NOT_ALLOWED = "MODEL_NOT_ALLOWED"
    TEMPLATE_NOT_OWNED = "TEMPLATE_NOT_OWNED"
    USAGE_NOT_ALLOWED = "USAGE_NOT_ALLOWED"
    SERVICE_NOT_FOUND = "SERVICE_NOT_FOUND"
    QUOTA_EXCEEDED = "QUOTA_EXCEEDED"
    # Feedback on answers
    REQUEST_NOT_FOUND = "REQUEST_NOT_FOUND"
    FEEDBACK_STORE_UNAVAILABLE = "FEEDBACK_STORE_UNAVAILABLE"
    # Capacity and time
    OVERLOADED = "OVERLOADED"
    OUT_OF_MEMORY = "OUT_OF_MEMORY"
    STREAM_WRITE_TIMEOUT = "STREAM_WRITE_TIMEOUT"
    DEADLINE_EXCEEDED = "DEADLINE_EXCEEDED"
    CANCELLED = "CANCELLED"
    # Our fault
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
    reason: Reason = Reason.INTERNAL
    field_violations: list[FieldViolation] = field(default_factory=list)
    quota_violations: list[QuotaViolation] = field(default_factory=list)
    # Seconds after which a retry may succeed (rate limits, circuit cooldowns).
    retry_after: float | None = None
    # Non-secret facts for ErrorInfo.metadata (e.g. the template id).
    metadata: dict[str, str] = field(default_factory=dict)
    # The model attempts made before the failure (for metrics, logs and cost; not sent to callers).
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


class PermissionDeniedError(OrchestratorError):
    kind = ErrorKind.PERMISSION_DENIED


class UnauthenticatedError(OrchestratorError):
    kind = ErrorKind.UNAUTHENTICATED


class FailedPreconditionError(OrchestratorError):
    kind = ErrorKind.FAILED_PRECONDITION


class InvalidModelOutputError(FailedPreconditionError):
    """The model answered, but not in the requested shape (format, schema, validators).

    FAILED_PRECONDITION, not UNAVAILABLE: a transport-level retry would only repeat the same (paid)
    attempts; the caller should change the prompt, schema or model.
    """


class ResourceExhaustedError(OrchestratorError):
    kind = ErrorKind.RESOURCE_EXHAUSTED


class AbortedError(OrchestratorError):
    kind = ErrorKind.ABORTED


class UnavailableError(OrchestratorError):
    kind = ErrorKind.UNAVAILABLE


class DeadlineExceededError(OrchestratorError):
    kind = ErrorKind.DEADLINE_EXCEEDED


class CancelledError(OrchestratorError):
    kind = ErrorKind.CANCELLED


class InternalError(OrchestratorError):
    kind = ErrorKind.INTERNAL


class ConfigError(Exception):
    """The configuration is invalid; the message names each bad path. Start-up stops (exit status 2)."""


ECHO_LIMIT = 128


def clip(text: str, limit: int = ECHO_LIMIT) -> str:
    """Caller input as echoed in an error message or detail: at most `limit` characters, then "…".

    A status carries its details in trailing metadata, which gRPC caps (8 KiB by default); an echoed
    1 MiB id would turn NOT_FOUND into RESOURCE_EXHAUSTED.
    """
    return text if len(text) <= limit else text[:limit] + "…"


def invalid_fields(
    message: str, violations: list[FieldViolation], reason: Reason = Reason.INVALID_REQUEST
) -> InvalidArgumentError:
    """An INVALID_ARGUMENT error listing every bad field."""
    return InvalidArgumentError(message, reason=reason, field_violations=violations)

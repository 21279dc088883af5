"""The one small interface every provider adapter implements, and the one error taxonomy they share."""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from orchestrator.domain import ChatMessage, FinishReason, SamplingParams, TextDelta, TokenCount, TokenUsage
from orchestrator.errors import Reason


@dataclass(frozen=True, slots=True)
class ProviderRequest:
    """One call to one model, already routed: `model` is the id the provider's API expects."""

    model: str
    messages: tuple[ChatMessage, ...]
    params: SamplingParams
    # Seconds the call may take at most (the smaller of the provider timeout and the caller's deadline).
    timeout: float | None = None
    json_schema: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Completion:
    """A finished answer. As the last stream event, `text` is empty: the deltas carried it."""

    text: str
    finish_reason: FinishReason
    usage: TokenUsage
    # The model id the provider says answered (may differ from the requested alias).
    response_model: str = ""


StreamEvent = TextDelta | Completion


class ProviderErrorKind(enum.Enum):
    """Why a provider call failed, and so what the router may do about it."""

    RATE_LIMITED = Reason.UPSTREAM_RATE_LIMITED.value
    UNAVAILABLE = Reason.UPSTREAM_UNAVAILABLE.value
    TIMEOUT = Reason.UPSTREAM_TIMEOUT.value
    CONTEXT_LENGTH_EXCEEDED = Reason.CONTEXT_LENGTH_EXCEEDED.value
    CONTENT_FILTERED = Reason.CONTENT_FILTERED.value
    INVALID_REQUEST = Reason.UPSTREAM_INVALID_REQUEST.value
    MODEL_NOT_FOUND = Reason.UPSTREAM_MODEL_NOT_FOUND.value
    AUTHENTICATION = Reason.UPSTREAM_AUTH_FAILED.value
    MALFORMED_RESPONSE = Reason.UPSTREAM_MALFORMED_RESPONSE.value

    @property
    def retryable(self) -> bool:
        """Trying the same model again later may succeed."""
        return self in _TRANSIENT

    @property
    def fallback_helps(self) -> bool:
        """Another model may succeed where this one failed."""
        return self is not ProviderErrorKind.INVALID_REQUEST


_TRANSIENT = frozenset(
    {
        ProviderErrorKind.RATE_LIMITED,
        ProviderErrorKind.UNAVAILABLE,
        ProviderErrorKind.TIMEOUT,
        ProviderErrorKind.MALFORMED_RESPONSE,
    }
)


@dataclass(eq=False)
class ProviderError(Exception):
    """A failed provider call, classified once by the adapter that saw it. Never carries secrets."""

    kind: ProviderErrorKind
    message: str
    status_code: int | None = None
    retry_after: float | None = None
    details: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    @property
    def reason(self) -> Reason:
        return Reason(self.kind.value)


class Provider(Protocol):
    """A configured provider: owns its client and credentials; one instance serves all its models."""

    name: str

    async def start(self) -> None:
        """Load or connect once, at server start."""

    async def aclose(self) -> None:
        """Release clients, threads and models."""

    async def generate(self, request: ProviderRequest) -> Completion:
        """The whole answer at once."""
        ...

    def stream(self, request: ProviderRequest) -> AsyncIterator[StreamEvent]:
        """Text deltas in order, then exactly one Completion with usage and finish reason.

        Closing the iterator early (the caller went away) must close the upstream request at once.
        """
        ...

    async def count_tokens(self, model: str, messages: tuple[ChatMessage, ...], exact: bool = False) -> TokenCount:
        """Tokens the messages take for `model`, offline. `exact` allows a provider's count endpoint."""
        ...


# -- transports: how an HTTP adapter reaches its API ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WireApi:
    """What a transport must know of one HTTP API; the adapters' converters and stream readers do the rest."""

    name: str  # "openai" or "anthropic": selects the vendor SDK for `transport: sdk`
    # Used when the provider sets no base_url, as the SDKs do: the environment variable, else the default.
    default_base_url: str
    base_url_env: str
    # The headers that carry the key (none when there is no key).
    auth_headers: Callable[[str | None], dict[str, str]]
    # An HTTP error answer (its parsed JSON or its text) as the classified ProviderError:
    # (provider, status, body, headers, fallback message) -> error.
    status_error: Callable[[str, int, Any, Mapping[str, str], str], ProviderError]


class EventStream(Protocol):
    """A streamed answer's events as parsed JSON objects, in order; failures raised as ProviderError."""

    def __aiter__(self) -> AsyncIterator[Any]: ...

    async def aclose(self) -> None:
        """Stop reading: a stream not read to its end drops its connection at once."""


class Transport(Protocol):
    """Posts wire JSON and reads the answer back: the native aiohttp client or a vendor SDK (`transport:`)."""

    async def start(self) -> None: ...

    async def aclose(self) -> None: ...

    async def post(self, path: str, body: dict[str, Any], timeout: float | None) -> Any:
        """The answer's JSON; ProviderError for an HTTP error or a failed connection."""
        ...

    async def stream(self, path: str, body: dict[str, Any], timeout: float | None) -> EventStream:
        """An SSE answer, once its headers arrived (HTTP errors are raised here, before any event)."""
        ...


class ReportsServing(Protocol):
    """A provider that knows when it cannot serve (the embedded model's wedged worker): the router skips it
    and reports its circuit OPEN while `serving()` is false."""

    def serving(self) -> bool: ...

"""Plain data types shared by the pipeline, the router and the providers (no transport types here)."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Role = Literal["system", "user", "assistant"]


class OutputFormat(enum.Enum):
    TEXT = "text"
    JSON = "json"
    CODE = "code"
    MARKDOWN = "markdown"


class FinishReason(enum.Enum):
    UNSPECIFIED = "unspecified"
    STOP = "stop"
    LENGTH = "length"
    CONTENT_FILTER = "content_filter"


class CachePolicy(enum.Enum):
    DEFAULT = "default"
    USE = "use"
    BYPASS = "bypass"
    REFRESH = "refresh"


class AttemptOutcome(enum.Enum):
    SUCCESS = "success"
    ERROR = "error"
    INVALID_OUTPUT = "invalid_output"


class CircuitState(enum.Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


ANONYMOUS = "anonymous"


@dataclass(frozen=True, slots=True)
class Caller:
    """The service a call is made for: who spends, who owns, whose budget (anonymous when auth is off)."""

    service: str = ANONYMOUS
    admin: bool = False
    # None: every task type / model; otherwise the allowed names (models by canonical name).
    task_types: frozenset[str] | None = None
    models: frozenset[str] | None = None

    def may_use_task(self, task_type: str) -> bool:
        return self.task_types is None or task_type in self.task_types

    def may_use_model(self, model: str) -> bool:
        return self.models is None or model in self.models


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: Role
    content: str


@dataclass(frozen=True, slots=True)
class ContextItem:
    content: str
    source: str = ""
    relevance_score: float = 0.0
    timestamp: datetime | None = None
    token_count: int | None = None


@dataclass(frozen=True, slots=True)
class SamplingParams:
    temperature: float | None = None
    top_p: float | None = None
    max_output_tokens: int | None = None
    stop: tuple[str, ...] = ()

    def merged_over(self, defaults: SamplingParams) -> SamplingParams:
        """These params, with unset fields taken from `defaults`."""
        return SamplingParams(
            temperature=self.temperature if self.temperature is not None else defaults.temperature,
            top_p=self.top_p if self.top_p is not None else defaults.top_p,
            max_output_tokens=(
                self.max_output_tokens if self.max_output_tokens is not None else defaults.max_output_tokens
            ),
            stop=self.stop or defaults.stop,
        )


@dataclass(frozen=True, slots=True)
class ModelSelection:
    preferred_model: str = ""
    preferred_provider: str = ""
    required_capabilities: tuple[str, ...] = ()
    fallback_models: tuple[str, ...] = ()
    max_cost_usd: float | None = None
    max_latency_ms: int | None = None


@dataclass(frozen=True, slots=True)
class TokenUsage:
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    # True when counted locally because the provider reported nothing.
    estimated: bool = False

    def __add__(self, other: TokenUsage) -> TokenUsage:
        return TokenUsage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cached_input_tokens + other.cached_input_tokens,
            self.estimated or other.estimated,
        )


@dataclass(frozen=True, slots=True)
class TokenCount:
    count: int
    estimated: bool = False


@dataclass(frozen=True, slots=True)
class Retrieval:
    """Knowledge-base retrieval for one request (empty collections: the task's configured ones)."""

    collections: tuple[str, ...] = ()
    query: str = ""
    top_k: int | None = None


@dataclass(slots=True)
class GenerationRequest:
    """What a caller asked for, validated and converted from the wire."""

    request_id: str
    task_type: str = ""
    template_id: str = ""
    template_version: str = ""
    variables: dict[str, Any] = field(default_factory=dict)
    messages: list[ChatMessage] = field(default_factory=list)
    context: list[ContextItem] = field(default_factory=list)
    output_format: OutputFormat = OutputFormat.TEXT
    json_schema: dict[str, Any] | None = None
    selection: ModelSelection = field(default_factory=ModelSelection)
    params: SamplingParams = field(default_factory=SamplingParams)
    cache_policy: CachePolicy = CachePolicy.DEFAULT
    metadata: dict[str, str] = field(default_factory=dict)
    # "relevance", "recency", "hybrid", or "" for the task's default.
    context_strategy: str = ""
    # Seconds left of the caller's deadline when the request arrived (None: no deadline).
    timeout: float | None = None
    caller: Caller = field(default_factory=Caller)
    # A conversation the server keeps for the caller ("" for none).
    conversation_id: str = ""
    retrieval: Retrieval | None = None


@dataclass(frozen=True, slots=True)
class Attempt:
    """One upstream call made for a request, with what it cost (rejected answers are paid for too)."""

    model: str
    provider: str
    outcome: AttemptOutcome
    error_reason: str = ""
    latency_ms: float = 0.0
    usage: TokenUsage = TokenUsage()
    cost_usd: float = 0.0
    # For a rejected answer: the check that rejected it ("format", "json_schema" or a validator's name).
    validator: str = ""


def total_usage(attempts: Iterable[Attempt]) -> tuple[TokenUsage, float]:
    """Tokens and dollars of every attempt together."""
    usage, cost = TokenUsage(), 0.0
    for attempt in attempts:
        usage += attempt.usage
        cost += attempt.cost_usd
    return usage, cost


@dataclass(slots=True)
class GenerationResult:
    request_id: str
    text: str
    model: str
    provider: str
    usage: TokenUsage
    cost_usd: float
    finish_reason: FinishReason
    attempts: list[Attempt]
    latency_ms: float = 0.0
    structured: Any = None
    has_structured: bool = False
    code: str = ""
    cache_hit: bool = False
    # Set on a semantic cache hit: the cosine similarity between this request and the one that was answered.
    cache_similarity: float = 0.0
    # True when another identical request's upstream call answered this one (single-flight).
    joined: bool = False
    template_id: str = ""
    template_version: str = ""
    context_used: int = 0
    context_dropped: int = 0


@dataclass(frozen=True, slots=True)
class StreamStarted:
    """First stream event: the model that answers."""

    request_id: str
    model: str
    provider: str


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str

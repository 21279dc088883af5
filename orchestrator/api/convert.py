"""Protobuf <-> domain conversion, with every field checked and every problem reported at once."""

from __future__ import annotations

import math
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from google.protobuf import struct_pb2
from orchestrator_client.v1 import common_pb2, generation_pb2

from orchestrator.domain import (
    CachePolicy,
    Caller,
    ChatMessage,
    ContextItem,
    FinishReason,
    GenerationRequest,
    GenerationResult,
    ModelSelection,
    OutputFormat,
    Retrieval,
    SamplingParams,
    TokenUsage,
)
from orchestrator.errors import FieldViolation, invalid_fields

MAX_STOP_SEQUENCES = 4
MAX_TOP_K = 50
CONVERSATION_ID = re.compile(r"^[A-Za-z0-9_.:\-]{1,128}$")
COLLECTION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")
MAX_REQUEST_ID_CHARS = 128
# Structs and lists deeper than this are refused: nothing a template or a schema needs, and every consumer
# (templates, schema validators, the cache key) walks them recursively. (The protobuf decoder's own limit of 100
# message levels stops a Struct at about 32 levels, a list at about 49.)
MAX_STRUCT_DEPTH = 20
# google.protobuf.Timestamp's own range: 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59.999999999Z.
MIN_TIMESTAMP_SECONDS = -62_135_596_800
MAX_TIMESTAMP_SECONDS = 253_402_300_799

ROLES = {
    common_pb2.ROLE_SYSTEM: "system",
    common_pb2.ROLE_USER: "user",
    common_pb2.ROLE_ASSISTANT: "assistant",
}
ROLE_TO_PROTO = {v: k for k, v in ROLES.items()}
OUTPUT_FORMATS = {
    generation_pb2.OUTPUT_FORMAT_UNSPECIFIED: OutputFormat.TEXT,
    generation_pb2.OUTPUT_FORMAT_TEXT: OutputFormat.TEXT,
    generation_pb2.OUTPUT_FORMAT_JSON: OutputFormat.JSON,
    generation_pb2.OUTPUT_FORMAT_CODE: OutputFormat.CODE,
    generation_pb2.OUTPUT_FORMAT_MARKDOWN: OutputFormat.MARKDOWN,
}
CACHE_POLICIES = {
    generation_pb2.CACHE_POLICY_UNSPECIFIED: CachePolicy.DEFAULT,
    generation_pb2.CACHE_POLICY_USE: CachePolicy.USE,
    generation_pb2.CACHE_POLICY_BYPASS: CachePolicy.BYPASS,
    generation_pb2.CACHE_POLICY_REFRESH: CachePolicy.REFRESH,
}
CONTEXT_STRATEGIES = {
    generation_pb2.CONTEXT_STRATEGY_UNSPECIFIED: "",
    generation_pb2.CONTEXT_STRATEGY_RELEVANCE: "relevance",
    generation_pb2.CONTEXT_STRATEGY_RECENCY: "recency",
    generation_pb2.CONTEXT_STRATEGY_HYBRID: "hybrid",
}
FINISH_REASONS = {
    FinishReason.UNSPECIFIED: generation_pb2.FINISH_REASON_UNSPECIFIED,
    FinishReason.STOP: generation_pb2.FINISH_REASON_STOP,
    FinishReason.LENGTH: generation_pb2.FINISH_REASON_LENGTH,
    FinishReason.CONTENT_FILTER: generation_pb2.FINISH_REASON_CONTENT_FILTER,
}


class Problems:
    """Collects field violations so the caller learns of every bad field in one answer."""

    def __init__(self) -> None:
        self.violations: list[FieldViolation] = []

    def add(self, field: str, description: str) -> None:
        self.violations.append(FieldViolation(field, description))

    def raise_if_any(self, message: str = "the request has invalid fields") -> None:
        if self.violations:
            first = self.violations[0]
            raise invalid_fields(f"{message}: {first.field}: {first.description}", self.violations)


DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


def page_size(requested: int) -> int:
    """A list call's page size: the default for 0, at most MAX_PAGE_SIZE; INVALID_ARGUMENT when negative."""
    if requested < 0:
        problems = Problems()
        problems.add("page_size", "must not be negative")
        problems.raise_if_any()
    return min(requested or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


def value_to_python(value: struct_pb2.Value, path: str, problems: Problems, depth: int = 1) -> Any:
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        return value.string_value
    if kind == "number_value":
        number = value.number_value
        if not math.isfinite(number):
            problems.add(path, "numbers must be finite")
            return None
        # JSON has one number type; give templates 3, not 3.0, for whole numbers.
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    if kind == "bool_value":
        return value.bool_value
    if kind == "null_value":
        return None
    if kind in ("struct_value", "list_value") and depth >= MAX_STRUCT_DEPTH:
        problems.add(path, f"nested more than {MAX_STRUCT_DEPTH} levels deep")
        return None
    if kind == "struct_value":
        return struct_to_dict(value.struct_value, path, problems, depth + 1)
    if kind == "list_value":
        values = value.list_value.values
        return [value_to_python(v, f"{path}[{i}]", problems, depth + 1) for i, v in enumerate(values)]
    problems.add(path, "value has no kind set (malformed google.protobuf.Value)")
    return None


def struct_to_dict(struct: struct_pb2.Struct, path: str, problems: Problems, depth: int = 1) -> dict[str, Any]:
    return {key: value_to_python(v, f"{path}.{key}", problems, depth) for key, v in struct.fields.items()}


def python_to_value(obj: Any) -> struct_pb2.Value:
    value = struct_pb2.Value()
    if obj is None:
        value.null_value = struct_pb2.NULL_VALUE
    elif isinstance(obj, bool):
        value.bool_value = obj
    elif isinstance(obj, int | float):
        value.number_value = obj
    elif isinstance(obj, str):
        value.string_value = obj
    elif isinstance(obj, dict):
        value.struct_value.update(obj)
    elif isinstance(obj, list | tuple):
        value.list_value.extend(obj)
    else:
        value.string_value = str(obj)
    return value


def messages_from_proto(messages: Any, field: str, problems: Problems) -> list[ChatMessage]:
    result = []
    for i, message in enumerate(messages):
        role = ROLES.get(message.role)
        if role is None:
            problems.add(f"{field}[{i}].role", "must be ROLE_SYSTEM, ROLE_USER or ROLE_ASSISTANT")
            continue
        result.append(ChatMessage(role, message.content))
    return result


def _selection(proto: generation_pb2.ModelSelection, problems: Problems) -> ModelSelection:
    max_cost = proto.max_cost_usd if proto.HasField("max_cost_usd") else None
    # NaN compares false with every price, so it would switch the cap off instead of failing.
    if max_cost is not None and not (math.isfinite(max_cost) and max_cost >= 0):
        problems.add("selection.max_cost_usd", "must be a finite number of dollars, at least 0")
    return ModelSelection(
        preferred_model=proto.preferred_model,
        preferred_provider=proto.preferred_provider,
        required_capabilities=tuple(proto.required_capabilities),
        fallback_models=tuple(proto.fallback_models),
        max_cost_usd=max_cost,
        max_latency_ms=proto.max_latency_ms if proto.HasField("max_latency_ms") else None,
    )


def _params(proto: generation_pb2.GenerationParams, problems: Problems) -> SamplingParams:
    temperature = proto.temperature if proto.HasField("temperature") else None
    top_p = proto.top_p if proto.HasField("top_p") else None
    max_tokens = proto.max_output_tokens if proto.HasField("max_output_tokens") else None
    if temperature is not None and not 0.0 <= temperature <= 2.0:
        problems.add("params.temperature", "must be between 0.0 and 2.0")
    if top_p is not None and not 0.0 < top_p <= 1.0:
        problems.add("params.top_p", "must be greater than 0.0 and at most 1.0")
    if max_tokens is not None and max_tokens == 0:
        problems.add("params.max_output_tokens", "must be at least 1 when set")
    if len(proto.stop) > MAX_STOP_SEQUENCES:
        problems.add("params.stop", f"at most {MAX_STOP_SEQUENCES} stop sequences")
    if any(not s for s in proto.stop):
        problems.add("params.stop", "stop sequences must not be empty")
    return SamplingParams(temperature, top_p, max_tokens, tuple(proto.stop))


def _timestamp(item: Any, path: str, problems: Problems) -> datetime | None:
    if not item.HasField("timestamp"):
        return None
    seconds, nanos = item.timestamp.seconds, item.timestamp.nanos
    if not (MIN_TIMESTAMP_SECONDS <= seconds <= MAX_TIMESTAMP_SECONDS and 0 <= nanos < 1_000_000_000):
        problems.add(path, "must lie between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z, nanos in [0, 1e9)")
        return None
    return item.timestamp.ToDatetime(tzinfo=UTC)


def context_items(items: Any, problems: Problems) -> list[ContextItem]:
    result = []
    for i, item in enumerate(items):
        if not math.isfinite(item.relevance_score):
            problems.add(f"context[{i}].relevance_score", "must be a finite number")
        result.append(
            ContextItem(
                content=item.content,
                source=item.source,
                relevance_score=item.relevance_score if math.isfinite(item.relevance_score) else 0.0,
                timestamp=_timestamp(item, f"context[{i}].timestamp", problems),
                token_count=item.token_count if item.HasField("token_count") else None,
            )
        )
    return result


def _retrieval(proto: generation_pb2.GenerateRequest, problems: Problems) -> Retrieval | None:
    if not proto.HasField("retrieval"):
        return None
    r = proto.retrieval
    for i, name in enumerate(r.collections):
        if not COLLECTION.match(name):
            problems.add(f"retrieval.collections[{i}]", "1-128 characters: letters, digits, '_', '-', '.'")
    if r.top_k > MAX_TOP_K:
        problems.add("retrieval.top_k", f"at most {MAX_TOP_K}")
    return Retrieval(tuple(r.collections), r.query, r.top_k or None)


def generate_request(
    proto: generation_pb2.GenerateRequest, timeout: float | None, caller: Caller | None = None
) -> GenerationRequest:
    problems = Problems()
    if len(proto.request_id) > MAX_REQUEST_ID_CHARS:
        problems.add("request_id", f"at most {MAX_REQUEST_ID_CHARS} characters")
    output_format = OUTPUT_FORMATS.get(proto.output_format)
    if output_format is None:
        problems.add("output_format", f"unknown OutputFormat value {proto.output_format}")
    cache_policy = CACHE_POLICIES.get(proto.cache.policy)
    if cache_policy is None:
        problems.add("cache.policy", f"unknown CachePolicy value {proto.cache.policy}")
    context_strategy = CONTEXT_STRATEGIES.get(proto.context_strategy)
    if context_strategy is None:
        problems.add("context_strategy", f"unknown ContextStrategy value {proto.context_strategy}")
    if proto.template_version and not proto.template_id:
        problems.add("template_version", "needs template_id")
    retrieval = _retrieval(proto, problems)
    if proto.conversation_id and not CONVERSATION_ID.match(proto.conversation_id):
        problems.add("conversation_id", "1-128 characters: letters, digits, '_', '-', '.', ':'")
    variables = struct_to_dict(proto.variables, "variables", problems)
    schema = struct_to_dict(proto.json_schema, "json_schema", problems) if proto.HasField("json_schema") else None
    request = GenerationRequest(
        request_id=proto.request_id or uuid.uuid4().hex,
        task_type=proto.task_type,
        template_id=proto.template_id,
        template_version=proto.template_version,
        variables=variables,
        messages=messages_from_proto(proto.messages, "messages", problems),
        context=context_items(proto.context, problems),
        output_format=output_format or OutputFormat.TEXT,
        json_schema=schema,
        selection=_selection(proto.selection, problems),
        params=_params(proto.params, problems),
        cache_policy=cache_policy or CachePolicy.DEFAULT,
        metadata=dict(proto.metadata),
        context_strategy=context_strategy or "",
        timeout=timeout,
        caller=caller or Caller(),
        conversation_id=proto.conversation_id,
        retrieval=retrieval,
    )
    problems.raise_if_any()
    return request


def usage_to_proto(usage: TokenUsage, cost_usd: float) -> generation_pb2.Usage:
    return generation_pb2.Usage(
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cached_input_tokens=usage.cached_input_tokens,
        cost_usd=cost_usd,
        estimated=usage.estimated,
    )


_OUTCOMES = {
    "success": generation_pb2.ATTEMPT_OUTCOME_SUCCESS,
    "error": generation_pb2.ATTEMPT_OUTCOME_ERROR,
    "invalid_output": generation_pb2.ATTEMPT_OUTCOME_INVALID_OUTPUT,
}


def generate_response(result: GenerationResult, include_text: bool = True) -> generation_pb2.GenerateResponse:
    response = generation_pb2.GenerateResponse(
        request_id=result.request_id,
        text=result.text if include_text else "",
        code=result.code,
        model=result.model,
        provider=result.provider,
        usage=usage_to_proto(result.usage, result.cost_usd),
        finish_reason=FINISH_REASONS[result.finish_reason],
        cache_hit=result.cache_hit,
        cache_similarity=result.cache_similarity,
        attempts=[
            generation_pb2.Attempt(
                model=a.model,
                provider=a.provider,
                outcome=_OUTCOMES[a.outcome.value],
                error_reason=a.error_reason,
                latency_ms=a.latency_ms,
                validator=a.validator,
            )
            for a in result.attempts
        ],
        latency_ms=result.latency_ms,
        template_id=result.template_id,
        template_version=result.template_version,
        context_items_used=result.context_used,
        context_items_dropped=result.context_dropped,
    )
    if result.has_structured:
        response.structured.CopyFrom(python_to_value(result.structured))
    return response

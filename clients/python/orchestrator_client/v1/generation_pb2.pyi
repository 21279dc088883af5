from google.protobuf import struct_pb2 as _struct_pb2
from orchestrator_client.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class OutputFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OUTPUT_FORMAT_UNSPECIFIED: _ClassVar[OutputFormat]
    OUTPUT_FORMAT_TEXT: _ClassVar[OutputFormat]
    OUTPUT_FORMAT_JSON: _ClassVar[OutputFormat]
    OUTPUT_FORMAT_CODE: _ClassVar[OutputFormat]
    OUTPUT_FORMAT_MARKDOWN: _ClassVar[OutputFormat]

class FinishReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FINISH_REASON_UNSPECIFIED: _ClassVar[FinishReason]
    FINISH_REASON_STOP: _ClassVar[FinishReason]
    FINISH_REASON_LENGTH: _ClassVar[FinishReason]
    FINISH_REASON_CONTENT_FILTER: _ClassVar[FinishReason]

class CachePolicy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CACHE_POLICY_UNSPECIFIED: _ClassVar[CachePolicy]
    CACHE_POLICY_USE: _ClassVar[CachePolicy]
    CACHE_POLICY_BYPASS: _ClassVar[CachePolicy]
    CACHE_POLICY_REFRESH: _ClassVar[CachePolicy]

class AttemptOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ATTEMPT_OUTCOME_UNSPECIFIED: _ClassVar[AttemptOutcome]
    ATTEMPT_OUTCOME_SUCCESS: _ClassVar[AttemptOutcome]
    ATTEMPT_OUTCOME_ERROR: _ClassVar[AttemptOutcome]
    ATTEMPT_OUTCOME_INVALID_OUTPUT: _ClassVar[AttemptOutcome]

class ContextStrategy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONTEXT_STRATEGY_UNSPECIFIED: _ClassVar[ContextStrategy]
    CONTEXT_STRATEGY_RELEVANCE: _ClassVar[ContextStrategy]
    CONTEXT_STRATEGY_RECENCY: _ClassVar[ContextStrategy]
    CONTEXT_STRATEGY_HYBRID: _ClassVar[ContextStrategy]

class CircuitState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CIRCUIT_STATE_UNSPECIFIED: _ClassVar[CircuitState]
    CIRCUIT_STATE_CLOSED: _ClassVar[CircuitState]
    CIRCUIT_STATE_OPEN: _ClassVar[CircuitState]
    CIRCUIT_STATE_HALF_OPEN: _ClassVar[CircuitState]
OUTPUT_FORMAT_UNSPECIFIED: OutputFormat
OUTPUT_FORMAT_TEXT: OutputFormat
OUTPUT_FORMAT_JSON: OutputFormat
OUTPUT_FORMAT_CODE: OutputFormat
OUTPUT_FORMAT_MARKDOWN: OutputFormat
FINISH_REASON_UNSPECIFIED: FinishReason
FINISH_REASON_STOP: FinishReason
FINISH_REASON_LENGTH: FinishReason
FINISH_REASON_CONTENT_FILTER: FinishReason
CACHE_POLICY_UNSPECIFIED: CachePolicy
CACHE_POLICY_USE: CachePolicy
CACHE_POLICY_BYPASS: CachePolicy
CACHE_POLICY_REFRESH: CachePolicy
ATTEMPT_OUTCOME_UNSPECIFIED: AttemptOutcome
ATTEMPT_OUTCOME_SUCCESS: AttemptOutcome
ATTEMPT_OUTCOME_ERROR: AttemptOutcome
ATTEMPT_OUTCOME_INVALID_OUTPUT: AttemptOutcome
CONTEXT_STRATEGY_UNSPECIFIED: ContextStrategy
CONTEXT_STRATEGY_RELEVANCE: ContextStrategy
CONTEXT_STRATEGY_RECENCY: ContextStrategy
CONTEXT_STRATEGY_HYBRID: ContextStrategy
CIRCUIT_STATE_UNSPECIFIED: CircuitState
CIRCUIT_STATE_CLOSED: CircuitState
CIRCUIT_STATE_OPEN: CircuitState
CIRCUIT_STATE_HALF_OPEN: CircuitState

class ModelSelection(_message.Message):
    __slots__ = ("preferred_model", "preferred_provider", "required_capabilities", "fallback_models", "max_cost_usd", "max_latency_ms")
    PREFERRED_MODEL_FIELD_NUMBER: _ClassVar[int]
    PREFERRED_PROVIDER_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    FALLBACK_MODELS_FIELD_NUMBER: _ClassVar[int]
    MAX_COST_USD_FIELD_NUMBER: _ClassVar[int]
    MAX_LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    preferred_model: str
    preferred_provider: str
    required_capabilities: _containers.RepeatedScalarFieldContainer[str]
    fallback_models: _containers.RepeatedScalarFieldContainer[str]
    max_cost_usd: float
    max_latency_ms: int
    def __init__(self, preferred_model: _Optional[str] = ..., preferred_provider: _Optional[str] = ..., required_capabilities: _Optional[_Iterable[str]] = ..., fallback_models: _Optional[_Iterable[str]] = ..., max_cost_usd: _Optional[float] = ..., max_latency_ms: _Optional[int] = ...) -> None: ...

class GenerationParams(_message.Message):
    __slots__ = ("temperature", "top_p", "max_output_tokens", "stop")
    TEMPERATURE_FIELD_NUMBER: _ClassVar[int]
    TOP_P_FIELD_NUMBER: _ClassVar[int]
    MAX_OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    STOP_FIELD_NUMBER: _ClassVar[int]
    temperature: float
    top_p: float
    max_output_tokens: int
    stop: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, temperature: _Optional[float] = ..., top_p: _Optional[float] = ..., max_output_tokens: _Optional[int] = ..., stop: _Optional[_Iterable[str]] = ...) -> None: ...

class CacheOptions(_message.Message):
    __slots__ = ("policy",)
    POLICY_FIELD_NUMBER: _ClassVar[int]
    policy: CachePolicy
    def __init__(self, policy: _Optional[_Union[CachePolicy, str]] = ...) -> None: ...

class GenerateRequest(_message.Message):
    __slots__ = ("request_id", "task_type", "template_id", "template_version", "variables", "messages", "context", "output_format", "json_schema", "selection", "params", "cache", "metadata", "context_strategy", "conversation_id", "retrieval")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_TYPE_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_VERSION_FIELD_NUMBER: _ClassVar[int]
    VARIABLES_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FORMAT_FIELD_NUMBER: _ClassVar[int]
    JSON_SCHEMA_FIELD_NUMBER: _ClassVar[int]
    SELECTION_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    CACHE_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_STRATEGY_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    RETRIEVAL_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    task_type: str
    template_id: str
    template_version: str
    variables: _struct_pb2.Struct
    messages: _containers.RepeatedCompositeFieldContainer[_common_pb2.Message]
    context: _containers.RepeatedCompositeFieldContainer[_common_pb2.ContextItem]
    output_format: OutputFormat
    json_schema: _struct_pb2.Struct
    selection: ModelSelection
    params: GenerationParams
    cache: CacheOptions
    metadata: _containers.ScalarMap[str, str]
    context_strategy: ContextStrategy
    conversation_id: str
    retrieval: RetrievalOptions
    def __init__(self, request_id: _Optional[str] = ..., task_type: _Optional[str] = ..., template_id: _Optional[str] = ..., template_version: _Optional[str] = ..., variables: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., messages: _Optional[_Iterable[_Union[_common_pb2.Message, _Mapping]]] = ..., context: _Optional[_Iterable[_Union[_common_pb2.ContextItem, _Mapping]]] = ..., output_format: _Optional[_Union[OutputFormat, str]] = ..., json_schema: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., selection: _Optional[_Union[ModelSelection, _Mapping]] = ..., params: _Optional[_Union[GenerationParams, _Mapping]] = ..., cache: _Optional[_Union[CacheOptions, _Mapping]] = ..., metadata: _Optional[_Mapping[str, str]] = ..., context_strategy: _Optional[_Union[ContextStrategy, str]] = ..., conversation_id: _Optional[str] = ..., retrieval: _Optional[_Union[RetrievalOptions, _Mapping]] = ...) -> None: ...

class RetrievalOptions(_message.Message):
    __slots__ = ("collections", "query", "top_k")
    COLLECTIONS_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    TOP_K_FIELD_NUMBER: _ClassVar[int]
    collections: _containers.RepeatedScalarFieldContainer[str]
    query: str
    top_k: int
    def __init__(self, collections: _Optional[_Iterable[str]] = ..., query: _Optional[str] = ..., top_k: _Optional[int] = ...) -> None: ...

class Usage(_message.Message):
    __slots__ = ("input_tokens", "output_tokens", "cached_input_tokens", "cost_usd", "estimated")
    INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CACHED_INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COST_USD_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_FIELD_NUMBER: _ClassVar[int]
    input_tokens: int
    output_tokens: int
    cached_input_tokens: int
    cost_usd: float
    estimated: bool
    def __init__(self, input_tokens: _Optional[int] = ..., output_tokens: _Optional[int] = ..., cached_input_tokens: _Optional[int] = ..., cost_usd: _Optional[float] = ..., estimated: _Optional[bool] = ...) -> None: ...

class Attempt(_message.Message):
    __slots__ = ("model", "provider", "outcome", "error_reason", "latency_ms", "validator")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    ERROR_REASON_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    VALIDATOR_FIELD_NUMBER: _ClassVar[int]
    model: str
    provider: str
    outcome: AttemptOutcome
    error_reason: str
    latency_ms: float
    validator: str
    def __init__(self, model: _Optional[str] = ..., provider: _Optional[str] = ..., outcome: _Optional[_Union[AttemptOutcome, str]] = ..., error_reason: _Optional[str] = ..., latency_ms: _Optional[float] = ..., validator: _Optional[str] = ...) -> None: ...

class GenerateResponse(_message.Message):
    __slots__ = ("request_id", "text", "structured", "code", "model", "provider", "usage", "finish_reason", "cache_hit", "attempts", "latency_ms", "template_id", "template_version", "context_items_dropped", "context_items_used", "cache_similarity")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    STRUCTURED_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    FINISH_REASON_FIELD_NUMBER: _ClassVar[int]
    CACHE_HIT_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_VERSION_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_ITEMS_DROPPED_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_ITEMS_USED_FIELD_NUMBER: _ClassVar[int]
    CACHE_SIMILARITY_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    text: str
    structured: _struct_pb2.Value
    code: str
    model: str
    provider: str
    usage: Usage
    finish_reason: FinishReason
    cache_hit: bool
    attempts: _containers.RepeatedCompositeFieldContainer[Attempt]
    latency_ms: float
    template_id: str
    template_version: str
    context_items_dropped: int
    context_items_used: int
    cache_similarity: float
    def __init__(self, request_id: _Optional[str] = ..., text: _Optional[str] = ..., structured: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., code: _Optional[str] = ..., model: _Optional[str] = ..., provider: _Optional[str] = ..., usage: _Optional[_Union[Usage, _Mapping]] = ..., finish_reason: _Optional[_Union[FinishReason, str]] = ..., cache_hit: _Optional[bool] = ..., attempts: _Optional[_Iterable[_Union[Attempt, _Mapping]]] = ..., latency_ms: _Optional[float] = ..., template_id: _Optional[str] = ..., template_version: _Optional[str] = ..., context_items_dropped: _Optional[int] = ..., context_items_used: _Optional[int] = ..., cache_similarity: _Optional[float] = ...) -> None: ...

class StreamStart(_message.Message):
    __slots__ = ("request_id", "model", "provider")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    model: str
    provider: str
    def __init__(self, request_id: _Optional[str] = ..., model: _Optional[str] = ..., provider: _Optional[str] = ...) -> None: ...

class StreamDelta(_message.Message):
    __slots__ = ("text",)
    TEXT_FIELD_NUMBER: _ClassVar[int]
    text: str
    def __init__(self, text: _Optional[str] = ...) -> None: ...

class StreamGenerateResponse(_message.Message):
    __slots__ = ("start", "delta", "final")
    START_FIELD_NUMBER: _ClassVar[int]
    DELTA_FIELD_NUMBER: _ClassVar[int]
    FINAL_FIELD_NUMBER: _ClassVar[int]
    start: StreamStart
    delta: StreamDelta
    final: GenerateResponse
    def __init__(self, start: _Optional[_Union[StreamStart, _Mapping]] = ..., delta: _Optional[_Union[StreamDelta, _Mapping]] = ..., final: _Optional[_Union[GenerateResponse, _Mapping]] = ...) -> None: ...

class CountTokensRequest(_message.Message):
    __slots__ = ("model", "messages", "text")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    model: str
    messages: _containers.RepeatedCompositeFieldContainer[_common_pb2.Message]
    text: str
    def __init__(self, model: _Optional[str] = ..., messages: _Optional[_Iterable[_Union[_common_pb2.Message, _Mapping]]] = ..., text: _Optional[str] = ...) -> None: ...

class CountTokensResponse(_message.Message):
    __slots__ = ("token_count", "model", "estimated")
    TOKEN_COUNT_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_FIELD_NUMBER: _ClassVar[int]
    token_count: int
    model: str
    estimated: bool
    def __init__(self, token_count: _Optional[int] = ..., model: _Optional[str] = ..., estimated: _Optional[bool] = ...) -> None: ...

class ListModelsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ModelInfo(_message.Message):
    __slots__ = ("name", "provider", "context_window", "max_output_tokens", "input_cost_per_million_tokens", "output_cost_per_million_tokens", "cached_input_cost_per_million_tokens", "capabilities", "aliases", "circuit_state", "upstream_model")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_WINDOW_FIELD_NUMBER: _ClassVar[int]
    MAX_OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    INPUT_COST_PER_MILLION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_COST_PER_MILLION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CACHED_INPUT_COST_PER_MILLION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    ALIASES_FIELD_NUMBER: _ClassVar[int]
    CIRCUIT_STATE_FIELD_NUMBER: _ClassVar[int]
    UPSTREAM_MODEL_FIELD_NUMBER: _ClassVar[int]
    name: str
    provider: str
    context_window: int
    max_output_tokens: int
    input_cost_per_million_tokens: float
    output_cost_per_million_tokens: float
    cached_input_cost_per_million_tokens: float
    capabilities: _containers.RepeatedScalarFieldContainer[str]
    aliases: _containers.RepeatedScalarFieldContainer[str]
    circuit_state: CircuitState
    upstream_model: str
    def __init__(self, name: _Optional[str] = ..., provider: _Optional[str] = ..., context_window: _Optional[int] = ..., max_output_tokens: _Optional[int] = ..., input_cost_per_million_tokens: _Optional[float] = ..., output_cost_per_million_tokens: _Optional[float] = ..., cached_input_cost_per_million_tokens: _Optional[float] = ..., capabilities: _Optional[_Iterable[str]] = ..., aliases: _Optional[_Iterable[str]] = ..., circuit_state: _Optional[_Union[CircuitState, str]] = ..., upstream_model: _Optional[str] = ...) -> None: ...

class ListModelsResponse(_message.Message):
    __slots__ = ("models",)
    MODELS_FIELD_NUMBER: _ClassVar[int]
    models: _containers.RepeatedCompositeFieldContainer[ModelInfo]
    def __init__(self, models: _Optional[_Iterable[_Union[ModelInfo, _Mapping]]] = ...) -> None: ...

import datetime

from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from orchestrator_client.v1 import common_pb2 as _common_pb2
from orchestrator_client.v1 import generation_pb2 as _generation_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TemplateMetadata(_message.Message):
    __slots__ = ("description", "use_cases", "recommended_models")
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    USE_CASES_FIELD_NUMBER: _ClassVar[int]
    RECOMMENDED_MODELS_FIELD_NUMBER: _ClassVar[int]
    description: str
    use_cases: _containers.RepeatedScalarFieldContainer[str]
    recommended_models: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, description: _Optional[str] = ..., use_cases: _Optional[_Iterable[str]] = ..., recommended_models: _Optional[_Iterable[str]] = ...) -> None: ...

class PromptTemplate(_message.Message):
    __slots__ = ("template_id", "version", "system_message", "user_message_template", "required_variables", "optional_variables", "metadata", "variables_schema", "create_time", "etag", "owner")
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    SYSTEM_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    USER_MESSAGE_TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_VARIABLES_FIELD_NUMBER: _ClassVar[int]
    OPTIONAL_VARIABLES_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    VARIABLES_SCHEMA_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    template_id: str
    version: str
    system_message: str
    user_message_template: str
    required_variables: _containers.RepeatedScalarFieldContainer[str]
    optional_variables: _struct_pb2.Struct
    metadata: TemplateMetadata
    variables_schema: _struct_pb2.Struct
    create_time: _timestamp_pb2.Timestamp
    etag: str
    owner: str
    def __init__(self, template_id: _Optional[str] = ..., version: _Optional[str] = ..., system_message: _Optional[str] = ..., user_message_template: _Optional[str] = ..., required_variables: _Optional[_Iterable[str]] = ..., optional_variables: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., metadata: _Optional[_Union[TemplateMetadata, _Mapping]] = ..., variables_schema: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ..., owner: _Optional[str] = ...) -> None: ...

class CreateTemplateRequest(_message.Message):
    __slots__ = ("template",)
    TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    template: PromptTemplate
    def __init__(self, template: _Optional[_Union[PromptTemplate, _Mapping]] = ...) -> None: ...

class CreateTemplateResponse(_message.Message):
    __slots__ = ("template",)
    TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    template: PromptTemplate
    def __init__(self, template: _Optional[_Union[PromptTemplate, _Mapping]] = ...) -> None: ...

class GetTemplateRequest(_message.Message):
    __slots__ = ("template_id", "version")
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    template_id: str
    version: str
    def __init__(self, template_id: _Optional[str] = ..., version: _Optional[str] = ...) -> None: ...

class GetTemplateResponse(_message.Message):
    __slots__ = ("template",)
    TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    template: PromptTemplate
    def __init__(self, template: _Optional[_Union[PromptTemplate, _Mapping]] = ...) -> None: ...

class ListTemplatesRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "use_case")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    USE_CASE_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    use_case: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., use_case: _Optional[str] = ...) -> None: ...

class ListTemplatesResponse(_message.Message):
    __slots__ = ("templates", "next_page_token")
    TEMPLATES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    templates: _containers.RepeatedCompositeFieldContainer[PromptTemplate]
    next_page_token: str
    def __init__(self, templates: _Optional[_Iterable[_Union[PromptTemplate, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class RenderTemplateRequest(_message.Message):
    __slots__ = ("template_id", "version", "variables", "model", "context", "context_strategy", "max_output_tokens", "task_type")
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    VARIABLES_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_STRATEGY_FIELD_NUMBER: _ClassVar[int]
    MAX_OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    TASK_TYPE_FIELD_NUMBER: _ClassVar[int]
    template_id: str
    version: str
    variables: _struct_pb2.Struct
    model: str
    context: _containers.RepeatedCompositeFieldContainer[_common_pb2.ContextItem]
    context_strategy: _generation_pb2.ContextStrategy
    max_output_tokens: int
    task_type: str
    def __init__(self, template_id: _Optional[str] = ..., version: _Optional[str] = ..., variables: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., model: _Optional[str] = ..., context: _Optional[_Iterable[_Union[_common_pb2.ContextItem, _Mapping]]] = ..., context_strategy: _Optional[_Union[_generation_pb2.ContextStrategy, str]] = ..., max_output_tokens: _Optional[int] = ..., task_type: _Optional[str] = ...) -> None: ...

class ValidatorInfo(_message.Message):
    __slots__ = ("name", "type", "description")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    name: str
    type: str
    description: str
    def __init__(self, name: _Optional[str] = ..., type: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class ContextItemReport(_message.Message):
    __slots__ = ("index", "source", "relevance_score", "relevance_computed", "kept", "token_count")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    RELEVANCE_SCORE_FIELD_NUMBER: _ClassVar[int]
    RELEVANCE_COMPUTED_FIELD_NUMBER: _ClassVar[int]
    KEPT_FIELD_NUMBER: _ClassVar[int]
    TOKEN_COUNT_FIELD_NUMBER: _ClassVar[int]
    index: int
    source: str
    relevance_score: float
    relevance_computed: bool
    kept: bool
    token_count: int
    def __init__(self, index: _Optional[int] = ..., source: _Optional[str] = ..., relevance_score: _Optional[float] = ..., relevance_computed: _Optional[bool] = ..., kept: _Optional[bool] = ..., token_count: _Optional[int] = ...) -> None: ...

class RenderTemplateResponse(_message.Message):
    __slots__ = ("messages", "token_count", "model", "version", "token_count_estimated", "validators", "context_items")
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    TOKEN_COUNT_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    TOKEN_COUNT_ESTIMATED_FIELD_NUMBER: _ClassVar[int]
    VALIDATORS_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_ITEMS_FIELD_NUMBER: _ClassVar[int]
    messages: _containers.RepeatedCompositeFieldContainer[_common_pb2.Message]
    token_count: int
    model: str
    version: str
    token_count_estimated: bool
    validators: _containers.RepeatedCompositeFieldContainer[ValidatorInfo]
    context_items: _containers.RepeatedCompositeFieldContainer[ContextItemReport]
    def __init__(self, messages: _Optional[_Iterable[_Union[_common_pb2.Message, _Mapping]]] = ..., token_count: _Optional[int] = ..., model: _Optional[str] = ..., version: _Optional[str] = ..., token_count_estimated: _Optional[bool] = ..., validators: _Optional[_Iterable[_Union[ValidatorInfo, _Mapping]]] = ..., context_items: _Optional[_Iterable[_Union[ContextItemReport, _Mapping]]] = ...) -> None: ...

class DeleteTemplateRequest(_message.Message):
    __slots__ = ("template_id", "version", "etag")
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    template_id: str
    version: str
    etag: str
    def __init__(self, template_id: _Optional[str] = ..., version: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class DeleteTemplateResponse(_message.Message):
    __slots__ = ("deleted_versions",)
    DELETED_VERSIONS_FIELD_NUMBER: _ClassVar[int]
    deleted_versions: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, deleted_versions: _Optional[_Iterable[str]] = ...) -> None: ...

from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class RecordFeedbackRequest(_message.Message):
    __slots__ = ("request_id", "score", "label", "comment")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    score: float
    label: str
    comment: str
    def __init__(self, request_id: _Optional[str] = ..., score: _Optional[float] = ..., label: _Optional[str] = ..., comment: _Optional[str] = ...) -> None: ...

class RecordFeedbackResponse(_message.Message):
    __slots__ = ("request_id", "task_type", "template_id", "template_version", "model", "score")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_TYPE_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_VERSION_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    task_type: str
    template_id: str
    template_version: str
    model: str
    score: float
    def __init__(self, request_id: _Optional[str] = ..., task_type: _Optional[str] = ..., template_id: _Optional[str] = ..., template_version: _Optional[str] = ..., model: _Optional[str] = ..., score: _Optional[float] = ...) -> None: ...

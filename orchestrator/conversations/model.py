"""A conversation's turns and summary, as stored."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import datetime

from orchestrator.errors import FieldViolation, Reason, invalid_fields

_ID = re.compile(r"^[A-Za-z0-9_.:\-]{1,128}$")


@dataclass(frozen=True, slots=True)
class Turn:
    role: str  # "user" or "assistant"
    content: str
    request_id: str = ""
    model: str = ""
    create_time: datetime | None = None


@dataclass(frozen=True, slots=True)
class ConversationInfo:
    conversation_id: str
    turn_count: int
    create_time: datetime
    update_time: datetime
    expire_time: datetime | None = None


@dataclass(frozen=True, slots=True)
class ConversationPage:
    conversations: list[ConversationInfo]
    next_page_token: str


@dataclass(frozen=True, slots=True)
class Summary:
    """A summary of the turns before index `upto` (so it is made once, not per request)."""

    upto: int
    text: str


def check_id(conversation_id: str, field: str = "conversation_id") -> None:
    if not _ID.match(conversation_id):
        raise invalid_fields(
            "conversation_id must be 1-128 characters: letters, digits, '_', '-', '.', ':'",
            [FieldViolation(field, "1-128 characters: letters, digits, '_', '-', '.', ':'")],
            reason=Reason.INVALID_REQUEST,
        )


def encode_page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(str(offset).encode()).decode()


def decode_page_token(token: str) -> int:
    try:
        return max(int(base64.urlsafe_b64decode(token.encode()).decode()), 0)
    except (ValueError, UnicodeDecodeError):
        raise invalid_fields(
            "page_token is not a token this server issued",
            [FieldViolation("page_token", "malformed")],
            reason=Reason.INVALID_PAGE_TOKEN,
        ) from None

"""The conversation store interface, and the in-process store (`make run`, tests)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from orchestrator.conversations.model import (
    ConversationInfo,
    ConversationPage,
    Summary,
    Turn,
    decode_page_token,
    encode_page_token,
)


class ConversationStore(Protocol):
    async def turns(self, service: str, conversation_id: str) -> list[Turn]:
        """Oldest first; [] for a conversation that does not exist (or belongs to another service)."""
        ...

    async def info(self, service: str, conversation_id: str) -> ConversationInfo | None: ...

    async def append(self, service: str, conversation_id: str, turns: list[Turn]) -> None:
        """Add turns at the end (creating the conversation); keep at most max_turns; restart its TTL."""
        ...

    async def list(self, service: str, page_size: int, page_token: str = "") -> ConversationPage:
        """The service's conversations, most recently updated first."""
        ...

    async def delete(self, service: str, conversation_id: str) -> int:
        """Remove the conversation; returns how many turns it held (0: there was none)."""
        ...

    async def acquire(self, service: str, conversation_id: str, token: str, seconds: float) -> bool:
        """Take the conversation's lease for `seconds` unless another request holds it."""
        ...

    async def release(self, service: str, conversation_id: str, token: str) -> None:
        """Give the lease back (only the holder's token releases it)."""
        ...

    async def summary(self, service: str, conversation_id: str) -> Summary | None: ...

    async def save_summary(self, service: str, conversation_id: str, summary: Summary) -> None: ...

    async def aclose(self) -> None: ...


@dataclass
class _Conversation:
    turns: list[Turn] = field(default_factory=list)
    created: datetime = field(default_factory=lambda: datetime.now(UTC))
    updated: datetime = field(default_factory=lambda: datetime.now(UTC))
    summary: Summary | None = None


class MemoryConversationStore:
    def __init__(self, max_turns: int = 200, ttl_seconds: int = 7 * 86_400) -> None:
        self._max_turns = max_turns
        self._ttl = ttl_seconds
        self._conversations: dict[tuple[str, str], _Conversation] = {}
        self._leases: dict[tuple[str, str], tuple[str, float]] = {}

    def _live(self, key: tuple[str, str]) -> _Conversation | None:
        conversation = self._conversations.get(key)
        if conversation is not None and conversation.updated + timedelta(seconds=self._ttl) < datetime.now(UTC):
            del self._conversations[key]
            return None
        return conversation

    def _info(self, conversation_id: str, c: _Conversation) -> ConversationInfo:
        expires = c.updated + timedelta(seconds=self._ttl)
        return ConversationInfo(conversation_id, len(c.turns), c.created, c.updated, expires)

    async def turns(self, service: str, conversation_id: str) -> list[Turn]:
        conversation = self._live((service, conversation_id))
        return list(conversation.turns) if conversation else []

    async def info(self, service: str, conversation_id: str) -> ConversationInfo | None:
        conversation = self._live((service, conversation_id))
        return self._info(conversation_id, conversation) if conversation else None

    async def append(self, service: str, conversation_id: str, turns: list[Turn]) -> None:
        key = (service, conversation_id)
        conversation = self._live(key) or self._conversations.setdefault(key, _Conversation())
        conversation.turns.extend(turns)
        dropped = max(len(conversation.turns) - self._max_turns, 0)
        if dropped:
            del conversation.turns[:dropped]
            conversation.summary = None  # its index no longer points at the same turns
        conversation.updated = datetime.now(UTC)

    async def list(self, service: str, page_size: int, page_token: str = "") -> ConversationPage:
        offset = decode_page_token(page_token) if page_token else 0
        mine = [
            (cid, c) for (svc, cid), c in list(self._conversations.items()) if svc == service and self._live((svc, cid))
        ]
        mine.sort(key=lambda item: (item[1].updated, item[0]), reverse=True)
        page = mine[offset : offset + page_size]
        more = offset + page_size < len(mine)
        return ConversationPage(
            [self._info(cid, c) for cid, c in page], encode_page_token(offset + page_size) if more else ""
        )

    async def delete(self, service: str, conversation_id: str) -> int:
        conversation = self._conversations.pop((service, conversation_id), None)
        return len(conversation.turns) if conversation else 0

    async def acquire(self, service: str, conversation_id: str, token: str, seconds: float) -> bool:
        key, now = (service, conversation_id), time.monotonic()
        held = self._leases.get(key)
        if held is not None and held[1] > now:
            return False
        self._leases[key] = (token, now + seconds)
        return True

    async def release(self, service: str, conversation_id: str, token: str) -> None:
        key = (service, conversation_id)
        if self._leases.get(key, ("", 0.0))[0] == token:
            del self._leases[key]

    async def summary(self, service: str, conversation_id: str) -> Summary | None:
        conversation = self._live((service, conversation_id))
        return conversation.summary if conversation else None

    async def save_summary(self, service: str, conversation_id: str, summary: Summary) -> None:
        conversation = self._live((service, conversation_id))
        if conversation is not None:
            conversation.summary = summary

    async def aclose(self) -> None:
        return None

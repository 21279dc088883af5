"""The conversation RPCs as domain operations, always within the calling service's own conversations."""

from __future__ import annotations

from orchestrator.conversations.model import ConversationInfo, ConversationPage, Turn, check_id
from orchestrator.conversations.store import ConversationStore
from orchestrator.domain import Caller
from orchestrator.errors import NotFoundError, Reason


class ConversationOperations:
    def __init__(self, store: ConversationStore) -> None:
        self._store = store

    async def get(self, caller: Caller, conversation_id: str) -> tuple[ConversationInfo, list[Turn]]:
        check_id(conversation_id)
        info = await self._store.info(caller.service, conversation_id)
        if info is None:
            raise _not_found(conversation_id)
        return info, await self._store.turns(caller.service, conversation_id)

    async def list(self, caller: Caller, page_size: int, page_token: str) -> ConversationPage:
        return await self._store.list(caller.service, page_size, page_token)

    async def delete(self, caller: Caller, conversation_id: str) -> int:
        check_id(conversation_id)
        deleted = await self._store.delete(caller.service, conversation_id)
        if not deleted:
            raise _not_found(conversation_id)
        return deleted


def _not_found(conversation_id: str) -> NotFoundError:
    # The same answer whether it never existed or belongs to another service: ids reveal nothing.
    return NotFoundError(
        f"conversation {conversation_id!r} does not exist",
        reason=Reason.CONVERSATION_NOT_FOUND,
        metadata={"conversation_id": conversation_id},
    )

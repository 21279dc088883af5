"""A request in a conversation: take the conversation's lease, read its earlier turns, and append this turn
once the answer is complete (a failed, cut or cancelled request leaves the conversation as it was).

Two requests on one conversation never interleave: the second one gets ABORTED (CONVERSATION_BUSY, with
RetryInfo) while the first holds the lease. Conversations belong to the calling service: another service
asking for the same id simply has a conversation of its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from orchestrator.conversations.model import Summary, Turn
from orchestrator.conversations.store import ConversationStore
from orchestrator.domain import ChatMessage, GenerationRequest, GenerationResult
from orchestrator.errors import AbortedError, Reason

# Without a deadline a request holds the lease at most this long (a crashed replica's lease lapses).
DEFAULT_LEASE_SECONDS = 300.0


@dataclass(slots=True)
class ConversationTurn:
    """One request's part in a conversation."""

    service: str
    conversation_id: str
    token: str
    history: tuple[ChatMessage, ...]
    released: bool = False


class ConversationKeeper:
    def __init__(self, store: ConversationStore) -> None:
        self.store = store

    async def begin(self, request: GenerationRequest) -> ConversationTurn | None:
        if not request.conversation_id:
            return None
        service, conversation_id = request.caller.service, request.conversation_id
        token = uuid.uuid4().hex
        seconds = request.timeout + 1.0 if request.timeout else DEFAULT_LEASE_SECONDS
        if not await self.store.acquire(service, conversation_id, token, seconds):
            raise AbortedError(
                f"conversation {conversation_id!r} is answering another request; retry when it has finished",
                reason=Reason.CONVERSATION_BUSY,
                retry_after=1.0,
                metadata={"conversation_id": conversation_id},
            )
        try:
            turns = await self.store.turns(service, conversation_id)
        except BaseException:
            await self.store.release(service, conversation_id, token)
            raise
        history = tuple(ChatMessage(t.role, t.content) for t in turns)  # type: ignore[arg-type]
        return ConversationTurn(service, conversation_id, token, history)

    async def complete(self, turn: ConversationTurn, asked: tuple[ChatMessage, ...], result: GenerationResult) -> None:
        """Append what the caller said in this request and the model's whole answer, then let go."""
        said = [Turn(m.role, m.content, result.request_id) for m in asked if m.role != "system"]
        answer = Turn("assistant", result.text, result.request_id, result.model)
        try:
            await self.store.append(turn.service, turn.conversation_id, [*said, answer])
        finally:
            await self.release(turn)

    async def release(self, turn: ConversationTurn) -> None:
        if not turn.released:
            turn.released = True
            await self.store.release(turn.service, turn.conversation_id, turn.token)

    def summarizer(
        self, turn: ConversationTurn, summarize: Callable[[tuple[ChatMessage, ...]], Awaitable[str]]
    ) -> Callable[[int], Awaitable[str | None]]:
        """For the prompt builder: a summary of the oldest `dropped` turns, made once and kept with the
        conversation (a later request that drops the same turns reuses it)."""

        async def summary(dropped: int) -> str | None:
            kept = await self.store.summary(turn.service, turn.conversation_id)
            if kept is not None and kept.upto == dropped:
                return kept.text
            text = await summarize(turn.history[:dropped])
            await self.store.save_summary(turn.service, turn.conversation_id, Summary(dropped, text))
            return text

        return summary

"""Opening the configured feedback store (`feedback.store`), as the template store is chosen: memory, sqlite
(one file, the embedded default) or postgres (shared by every replica)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from orchestrator.config import FeedbackSettings
from orchestrator.feedback.records import FeedbackStore, MemoryFeedbackStore


async def _memory(settings: FeedbackSettings) -> FeedbackStore:
    return MemoryFeedbackStore(settings.max_requests)


async def _sqlite(settings: FeedbackSettings) -> FeedbackStore:
    from orchestrator.feedback.sqlite_store import SqliteFeedbackStore

    return await SqliteFeedbackStore.open(settings.store.path)


async def _postgres(settings: FeedbackSettings) -> FeedbackStore:
    # Imported when chosen: asyncpg stays out of processes that do not use it.
    from orchestrator.feedback.postgres_store import PostgresFeedbackStore

    assert settings.store.dsn is not None  # the settings validator requires it for this type
    return await PostgresFeedbackStore.open(settings.store.dsn.get_secret_value())


_OPENERS: dict[str, Callable[[FeedbackSettings], Awaitable[FeedbackStore]]] = {
    "memory": _memory,
    "sqlite": _sqlite,
    "postgres": _postgres,
}


async def open_feedback_store(settings: FeedbackSettings) -> FeedbackStore:
    """The configured store, tables created; ConfigError naming `feedback.store.*` if it cannot be opened."""
    return await _OPENERS[settings.store.type](settings)

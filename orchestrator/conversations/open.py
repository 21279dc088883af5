"""The configured conversation store (conversations.store: auto picks PostgreSQL, Redis or memory)."""

from __future__ import annotations

from orchestrator.config import Settings
from orchestrator.conversations.redis_store import RedisConversationStore
from orchestrator.conversations.store import ConversationStore, MemoryConversationStore
from orchestrator.state.redis import SharedRedis


def store_kind(settings: Settings) -> str:
    kind = settings.conversations.store
    if kind != "auto":
        return kind
    if settings.templates.store.type == "postgres":
        return "postgres"
    return "redis" if settings.shared_state.redis_url is not None else "memory"


async def open_conversations(settings: Settings, shared: SharedRedis | None) -> ConversationStore:
    c = settings.conversations
    kind = store_kind(settings)
    if kind == "postgres":
        from orchestrator.conversations.postgres_store import PostgresConversationStore

        dsn = settings.templates.store.dsn
        assert dsn is not None  # the settings require the template store to be PostgreSQL for this
        return await PostgresConversationStore.open(dsn.get_secret_value(), c.max_turns, c.ttl_seconds)
    if kind == "redis":
        assert shared is not None  # the settings require shared_state.redis_url for this
        return RedisConversationStore(shared, c.max_turns, c.ttl_seconds)
    return MemoryConversationStore(c.max_turns, c.ttl_seconds)

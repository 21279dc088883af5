"""The configured knowledge store."""

from __future__ import annotations

from orchestrator.config import KnowledgeStoreSettings
from orchestrator.knowledge.model import KnowledgeStore


async def open_knowledge(settings: KnowledgeStoreSettings) -> KnowledgeStore:
    if settings.type == "postgres":
        from orchestrator.knowledge.postgres_store import PostgresKnowledgeStore

        assert settings.dsn is not None  # required by the settings for this type
        return await PostgresKnowledgeStore.open(settings.dsn.get_secret_value())
    from orchestrator.knowledge.sqlite_store import SqliteKnowledgeStore

    return await SqliteKnowledgeStore.open(":memory:" if settings.type == "memory" else settings.path)

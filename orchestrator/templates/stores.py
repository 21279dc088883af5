"""Opening the configured template store."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from orchestrator.config import TemplateStoreSettings
from orchestrator.templates.store import MemoryTemplateStore, TemplateStore


# The SQL stores are imported when chosen: asyncpg stays out of processes that do not use it.
async def _memory(settings: TemplateStoreSettings) -> TemplateStore:
    return MemoryTemplateStore()


async def _sqlite(settings: TemplateStoreSettings) -> TemplateStore:
    from orchestrator.templates.sqlite_store import SqliteTemplateStore

    return await SqliteTemplateStore.open(settings.path)


async def _postgres(settings: TemplateStoreSettings) -> TemplateStore:
    from orchestrator.templates.postgres_store import PostgresTemplateStore

    assert settings.dsn is not None  # the settings validator requires it for this type
    return await PostgresTemplateStore.open(settings.dsn.get_secret_value())


_OPENERS: dict[str, Callable[[TemplateStoreSettings], Awaitable[TemplateStore]]] = {
    "memory": _memory,
    "sqlite": _sqlite,
    "postgres": _postgres,
}


async def open_store(settings: TemplateStoreSettings) -> TemplateStore:
    """The configured store, ready to use; ConfigError (naming `templates.store.*`) if it cannot be opened."""
    return await _OPENERS[settings.type](settings)

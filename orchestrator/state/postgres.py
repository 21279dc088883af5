"""What the PostgreSQL stores share: a pool whose tables are created once under an advisory lock (replicas
starting together do not trip over each other's DDL), and one mapping of a lost connection to UNAVAILABLE."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg

from orchestrator.errors import ConfigError, Reason, UnavailableError

T = TypeVar("T")
# The connection, not the request, failed: the caller may retry.
CONNECTION_ERRORS = (
    OSError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
)


async def open_pool(dsn: str, schema: str, lock: tuple[int, int], setting: str) -> asyncpg.Pool:
    """A pool with `schema` applied; ConfigError naming `setting` when PostgreSQL cannot be used."""
    pool: asyncpg.Pool | None = None
    try:
        pool = await asyncpg.create_pool(dsn, min_size=1, max_size=10, timeout=10)
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1::int4, $2::int4)", *lock)
            await conn.execute(schema)
    except (OSError, ValueError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        if pool is not None:
            pool.terminate()
        raise ConfigError(f"{setting}: cannot use PostgreSQL: {type(exc).__name__}") from None
    return pool


class Connections:
    """Runs work on a pooled connection; a lost connection is UNAVAILABLE with `reason` (retry later)."""

    def __init__(self, pool: asyncpg.Pool, reason: Reason, what: str) -> None:
        self.pool = pool
        self._reason = reason
        self._what = what

    async def run(self, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        try:
            async with self.pool.acquire() as conn:
                return await work(conn)
        except CONNECTION_ERRORS as exc:
            raise UnavailableError(
                f"{self._what} is unavailable; retry later", reason=self._reason, retry_after=1.0
            ) from exc

    async def aclose(self) -> None:
        await self.pool.close()

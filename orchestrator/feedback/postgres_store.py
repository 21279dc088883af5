"""The request ledger and feedback in PostgreSQL, shared by every replica (deployments).

Tables are created at start under an advisory lock, so replicas starting together do not trip over each
other's DDL. A connection failure is UNAVAILABLE (FEEDBACK_STORE_UNAVAILABLE): the caller may retry.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from urllib.parse import unquote, urlsplit

import asyncpg

from orchestrator.errors import ConfigError, Reason, UnavailableError
from orchestrator.feedback import sql
from orchestrator.feedback.records import FeedbackRecord, GroupTotals, RequestRecord
from orchestrator.redaction import SECRETS

log = logging.getLogger(__name__)

_SCHEMA_LOCK = (0x6F726368 + 2, 0)  # "orch" + 2: the template store uses + 0 and + 1
_CONNECTION_ERRORS = (OSError, asyncpg.InterfaceError, asyncpg.PostgresConnectionError, asyncpg.CannotConnectNowError)
_ADD, _GET, _PUT, _TOTALS = (sql.numbered(s) for s in (sql.ADD_REQUEST, sql.GET_REQUEST, sql.PUT_FEEDBACK, sql.TOTALS))
_PRUNE = tuple(sql.numbered(s) for s in sql.PRUNE)


def _scrubbed(dsn: str, exc: BaseException) -> str:
    """The failure without the DSN's password (registered with the redactor for every later message too)."""
    try:
        password = urlsplit(dsn).password or ""
    except ValueError:
        password = ""
    for secret in (password, unquote(password)):
        SECRETS.add(secret)
    return SECRETS(f"{type(exc).__name__}: {exc}")


class PostgresFeedbackStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @classmethod
    async def open(cls, dsn: str, min_size: int = 1, max_size: int = 4) -> PostgresFeedbackStore:
        """Connect and create the tables if missing; ConfigError naming `feedback.store.dsn` if that fails."""
        pool: asyncpg.Pool | None = None
        try:
            pool = await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size, timeout=10)
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock($1::int4, $2::int4)", *_SCHEMA_LOCK)
                for statement in sql.SCHEMA:
                    await conn.execute(statement)
        except (OSError, ValueError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            if pool is not None:
                pool.terminate()
            raise ConfigError(f"feedback.store.dsn: cannot use PostgreSQL: {_scrubbed(dsn, exc)}") from None
        return cls(pool)

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[asyncpg.Connection]:
        try:
            async with self._pool.acquire() as conn:
                yield conn
        except _CONNECTION_ERRORS as exc:
            log.warning("feedback store unavailable: %s", exc)
            raise UnavailableError(
                "the feedback store is unavailable; retry later",
                reason=Reason.FEEDBACK_STORE_UNAVAILABLE,
                retry_after=1.0,
            ) from exc

    async def add_requests(self, records: Sequence[RequestRecord]) -> None:
        async with self._connection() as conn:
            await conn.executemany(_ADD, [sql.request_row(r) for r in records])

    async def get_request(self, service: str, request_id: str) -> RequestRecord | None:
        async with self._connection() as conn:
            row = await conn.fetchrow(_GET, service, request_id)
        return sql.request_of(tuple(row)) if row is not None else None

    async def put_feedback(self, feedback: FeedbackRecord) -> None:
        async with self._connection() as conn:
            await conn.execute(_PUT, *sql.feedback_row(feedback))

    async def totals(self, task_type: str, since: float) -> list[GroupTotals]:
        async with self._connection() as conn:
            return [sql.totals_of(tuple(row)) for row in await conn.fetch(_TOTALS, task_type, since)]

    async def prune(self, older_than: float, keep: int) -> None:
        age, count, orphans = _PRUNE
        async with self._connection() as conn, conn.transaction():
            await conn.execute(age, older_than)
            await conn.execute(count, keep)
            await conn.execute(orphans)

    async def aclose(self) -> None:
        await self._pool.close()

"""The request ledger and feedback in PostgreSQL, shared by every replica (deployments). A connection failure is
UNAVAILABLE (FEEDBACK_STORE_UNAVAILABLE): the caller may retry."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from orchestrator.errors import Reason, UnavailableError
from orchestrator.feedback import sql
from orchestrator.feedback.records import FeedbackRecord, GroupTotals, RequestRecord
from orchestrator.state.sql import open_pg_pool, pg_connection

_SCHEMA_LOCK = 2  # the template store's is 1
_ADD, _GET, _PUT, _TOTALS = (sql.numbered(s) for s in (sql.ADD_REQUEST, sql.GET_REQUEST, sql.PUT_FEEDBACK, sql.TOTALS))
_PRUNE = tuple(sql.numbered(s) for s in sql.PRUNE)


def _unavailable() -> UnavailableError:
    return UnavailableError(
        "the feedback store is unavailable; retry later", reason=Reason.FEEDBACK_STORE_UNAVAILABLE, retry_after=1.0
    )


class PostgresFeedbackStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @classmethod
    async def open(cls, dsn: str) -> PostgresFeedbackStore:
        """Connect and create the tables if missing; ConfigError naming `feedback.store.dsn` if that fails."""
        return cls(await open_pg_pool(dsn, sql.SCHEMA, _SCHEMA_LOCK, "feedback.store.dsn", max_size=4))

    async def add_requests(self, records: Sequence[RequestRecord]) -> None:
        async with pg_connection(self._pool, _unavailable) as conn:
            await conn.executemany(_ADD, [sql.request_row(r) for r in records])

    async def get_request(self, service: str, request_id: str) -> RequestRecord | None:
        async with pg_connection(self._pool, _unavailable) as conn:
            row = await conn.fetchrow(_GET, service, request_id)
        return sql.request_of(tuple(row)) if row is not None else None

    async def put_feedback(self, feedback: FeedbackRecord) -> None:
        async with pg_connection(self._pool, _unavailable) as conn:
            await conn.execute(_PUT, *sql.feedback_row(feedback))

    async def totals(self, task_type: str, since: float) -> list[GroupTotals]:
        async with pg_connection(self._pool, _unavailable) as conn:
            return [sql.totals_of(tuple(row)) for row in await conn.fetch(_TOTALS, task_type, since)]

    async def prune(self, older_than: float, keep: int) -> None:
        age, count, orphans = _PRUNE
        async with pg_connection(self._pool, _unavailable) as conn, conn.transaction():
            await conn.execute(age, older_than)
            await conn.execute(count, keep)
            await conn.execute(orphans)

    async def aclose(self) -> None:
        await self._pool.close()

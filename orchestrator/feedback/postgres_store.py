"""The request ledger and feedback in PostgreSQL, shared by every replica (deployments). A lost connection is
UNAVAILABLE (FEEDBACK_STORE_UNAVAILABLE): the caller may retry."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from orchestrator.errors import Reason
from orchestrator.feedback import sql
from orchestrator.feedback.records import FeedbackRecord, GroupTotals, RequestRecord
from orchestrator.state.postgres import Connections, open_pool

# "orch" + 4: the template, conversation and knowledge stores use + 1, + 2 and + 3.
_SCHEMA_LOCK = (0x6F726368 + 4, 0)
_ADD, _GET, _PUT, _TOTALS = (sql.numbered(s) for s in (sql.ADD_REQUEST, sql.GET_REQUEST, sql.PUT_FEEDBACK, sql.TOTALS))
_AGE, _COUNT, _ORPHANS = (sql.numbered(s) for s in sql.PRUNE)


class PostgresFeedbackStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._db = Connections(pool, Reason.FEEDBACK_STORE_UNAVAILABLE, "the feedback store")

    @classmethod
    async def open(cls, dsn: str) -> PostgresFeedbackStore:
        """Connect and create the tables if missing; ConfigError naming `feedback.store.dsn` if that fails."""
        return cls(await open_pool(dsn, ";\n".join(sql.SCHEMA), _SCHEMA_LOCK, "feedback.store.dsn"))

    async def add_requests(self, records: Sequence[RequestRecord]) -> None:
        rows = [sql.request_row(r) for r in records]
        await self._db.run(lambda conn: conn.executemany(_ADD, rows))

    async def get_request(self, service: str, request_id: str) -> RequestRecord | None:
        row = await self._db.run(lambda conn: conn.fetchrow(_GET, service, request_id))
        return sql.request_of(tuple(row)) if row is not None else None

    async def put_feedback(self, feedback: FeedbackRecord) -> None:
        await self._db.run(lambda conn: conn.execute(_PUT, *sql.feedback_row(feedback)))

    async def totals(self, task_type: str, since: float) -> list[GroupTotals]:
        rows = await self._db.run(lambda conn: conn.fetch(_TOTALS, task_type, since))
        return [sql.totals_of(tuple(row)) for row in rows]

    async def prune(self, older_than: float, keep: int) -> None:
        async def prune(conn: asyncpg.Connection) -> None:
            async with conn.transaction():
                await conn.execute(_AGE, older_than)
                await conn.execute(_COUNT, keep)
                await conn.execute(_ORPHANS)

        await self._db.run(prune)

    async def aclose(self) -> None:
        await self._db.aclose()

"""The request ledger and feedback in one SQLite file (`make run`), on the store's own thread."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from orchestrator.feedback import sql
from orchestrator.feedback.records import FeedbackRecord, GroupTotals, RequestRecord
from orchestrator.state.sqlite import SqliteThread


def _schema(conn: sqlite3.Connection) -> None:
    for statement in sql.SCHEMA:
        conn.execute(statement)


class SqliteFeedbackStore:
    def __init__(self, db: SqliteThread) -> None:
        self._db = db

    @classmethod
    async def open(cls, path: str) -> SqliteFeedbackStore:
        return cls(await SqliteThread.open(path, _schema, "feedback.store.path", "feedback-sqlite"))

    def _write(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        with self._db.immediate() as conn:
            conn.executemany(statement, rows)

    async def add_requests(self, records: Sequence[RequestRecord]) -> None:
        await self._db.run(self._write, sql.ADD_REQUEST, [sql.request_row(r) for r in records])

    async def get_request(self, service: str, request_id: str) -> RequestRecord | None:
        def get() -> RequestRecord | None:
            row = self._db.conn.execute(sql.GET_REQUEST, (service, request_id)).fetchone()
            return sql.request_of(row) if row is not None else None

        return await self._db.run(get)

    async def put_feedback(self, feedback: FeedbackRecord) -> None:
        await self._db.run(self._write, sql.PUT_FEEDBACK, [sql.feedback_row(feedback)])

    async def totals(self, task_type: str, since: float) -> list[GroupTotals]:
        def totals() -> list[GroupTotals]:
            return [sql.totals_of(row) for row in self._db.conn.execute(sql.TOTALS, (task_type, since))]

        return await self._db.run(totals)

    async def prune(self, older_than: float, keep: int) -> None:
        def prune() -> None:
            age, count, orphans = sql.PRUNE
            with self._db.immediate() as conn:
                conn.execute(age, (older_than,))
                conn.execute(count, (keep,))
                conn.execute(orphans)

        await self._db.run(prune)

    async def aclose(self) -> None:
        await self._db.aclose()

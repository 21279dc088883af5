"""The request ledger and feedback in one SQLite file (`make run`). The stdlib driver blocks, so one
connection lives on one thread and every call runs there; WAL lets readers go on while a batch is written."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from orchestrator.errors import ConfigError
from orchestrator.feedback import sql
from orchestrator.feedback.records import FeedbackRecord, GroupTotals, RequestRecord

T = TypeVar("T")


def _connect(path: str) -> sqlite3.Connection:
    # Autocommit; each write below is one explicit transaction. timeout: wait for another process's lock.
    conn = sqlite3.connect(path, timeout=10.0, isolation_level=None, check_same_thread=False)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        for statement in sql.SCHEMA:
            conn.execute(statement)
    except BaseException:
        conn.close()
        raise
    return conn


class SqliteFeedbackStore:
    def __init__(self, conn: sqlite3.Connection, executor: ThreadPoolExecutor) -> None:
        self._conn = conn
        self._executor = executor
        self._closed = False

    @classmethod
    async def open(cls, path: str) -> SqliteFeedbackStore:
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="feedback-sqlite")
        try:
            conn = await asyncio.get_running_loop().run_in_executor(executor, _connect, path)
        except sqlite3.Error as exc:
            executor.shutdown(wait=False)
            raise ConfigError(f"feedback.store.path: cannot open SQLite database {path!r}: {exc}") from None
        return cls(conn, executor)

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def _write(self, statements: Sequence[tuple[str, Sequence[Any]]], many: bool = False) -> None:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            for statement, params in statements:
                (self._conn.executemany if many else self._conn.execute)(statement, params)
        except BaseException:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    async def add_requests(self, records: Sequence[RequestRecord]) -> None:
        await self._run(self._write, [(sql.ADD_REQUEST, [sql.request_row(r) for r in records])], True)

    async def get_request(self, service: str, request_id: str) -> RequestRecord | None:
        def get() -> RequestRecord | None:
            row = self._conn.execute(sql.GET_REQUEST, (service, request_id)).fetchone()
            return sql.request_of(row) if row is not None else None

        return await self._run(get)

    async def put_feedback(self, feedback: FeedbackRecord) -> None:
        await self._run(self._write, [(sql.PUT_FEEDBACK, sql.feedback_row(feedback))])

    async def totals(self, task_type: str, since: float) -> list[GroupTotals]:
        def totals() -> list[GroupTotals]:
            return [sql.totals_of(row) for row in self._conn.execute(sql.TOTALS, (task_type, since))]

        return await self._run(totals)

    async def prune(self, older_than: float, keep: int) -> None:
        age, count, orphans = sql.PRUNE
        await self._run(self._write, [(age, (older_than,)), (count, (keep,)), (orphans, ())])

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self._run(self._conn.close)
        self._executor.shutdown(wait=True)

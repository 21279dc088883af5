"""What the SQLite stores (templates, the request ledger) share: one connection on its own thread, opened with a
configuration error naming the setting when the file cannot be used (state/postgres.py is the PostgreSQL side).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

from orchestrator.errors import ConfigError

T = TypeVar("T")


class SqliteThread:
    """One SQLite connection living on one dedicated thread (the stdlib driver blocks): every call runs there and
    the event loop only awaits. WAL lets readers go on while another process writes."""

    def __init__(self, conn: sqlite3.Connection, executor: ThreadPoolExecutor) -> None:
        self.conn = conn
        self._executor = executor
        self._closed = False

    @classmethod
    async def open(
        cls, path: str, setup: Callable[[sqlite3.Connection], None], setting: str, name: str
    ) -> SqliteThread:
        """Connect and run `setup` (the schema); ConfigError naming `setting` when the file cannot be used."""

        def connect() -> sqlite3.Connection:
            # Autocommit (isolation_level=None): transactions are explicit. timeout: wait for another
            # process's write lock instead of failing at once.
            conn = sqlite3.connect(path, timeout=10.0, isolation_level=None)
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                setup(conn)
            except BaseException:
                conn.close()
                raise
            return conn

        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        try:
            conn = await asyncio.get_running_loop().run_in_executor(executor, connect)
        except sqlite3.Error as exc:
            executor.shutdown(wait=False)
            raise ConfigError(f"{setting}: cannot open SQLite database {path!r}: {exc}") from None
        return cls(conn, executor)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    @contextmanager
    def immediate(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that takes the file's write lock before reading (on the store's thread)."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            if self.conn.in_transaction:  # SQLite may already have rolled back (e.g. disk full)
                self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self.run(self.conn.close)
        self._executor.shutdown(wait=True)

"""What the SQL stores (templates, the request ledger, ...) share: one SQLite connection on its own thread, and a
PostgreSQL pool whose setup failures name the setting and whose outages are UNAVAILABLE for the caller.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from typing import Any, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

import asyncpg

from orchestrator.errors import ConfigError, OrchestratorError

T = TypeVar("T")
log = logging.getLogger(__name__)

# The connection, not the request, failed: the caller may retry.
PG_CONNECTION_ERRORS = (
    OSError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
)
_PG_SETUP_ERRORS = (OSError, ValueError, asyncpg.PostgresError, asyncpg.InterfaceError)
# "orch": the first key of pg_advisory_xact_lock(int, int) for every lock these stores take.
LOCK_NAMESPACE = 0x6F726368


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


def describe_dsn(dsn: str) -> tuple[str, list[str]]:
    """Where the DSN points (host:port/database, no credentials), and the secrets to scrub from messages."""
    try:
        parts = urlsplit(dsn)
        where = f"{parts.hostname or 'localhost'}:{parts.port or 5432}{parts.path or ''}"
        secrets = [parts.password or "", *parse_qs(parts.query).get("password", [])]
    except ValueError:
        where, secrets = "(unparsable dsn)", []
    secrets = [s for s in secrets if s]
    return where, secrets + [unquote(s) for s in secrets]


async def open_pg_pool(
    dsn: str, schema: Sequence[str], schema_lock: int, setting: str, min_size: int = 1, max_size: int = 10
) -> asyncpg.Pool:
    """A pool with the tables created (under an advisory lock, so replicas starting together do not trip over
    each other's DDL); ConfigError naming `setting`, without the password, when that fails."""
    pool: asyncpg.Pool | None = None
    try:
        pool = await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size, timeout=10)
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1::int4, $2::int4)", LOCK_NAMESPACE + schema_lock, 0)
            for statement in schema:
                await conn.execute(statement)
    except _PG_SETUP_ERRORS as exc:
        if pool is not None:
            pool.terminate()
        where, secrets = describe_dsn(dsn)
        reason = str(exc) or type(exc).__name__
        for secret in secrets:
            reason = reason.replace(secret, "***")
        raise ConfigError(f"{setting}: cannot use PostgreSQL at {where}: {reason}") from None
    return pool


@asynccontextmanager
async def pg_connection(
    pool: asyncpg.Pool, unavailable: Callable[[], OrchestratorError]
) -> AsyncIterator[asyncpg.Connection]:
    """A pooled connection; a connection failure becomes `unavailable()` (UNAVAILABLE: the caller may retry)."""
    try:
        async with pool.acquire() as conn:
            yield conn
    except PG_CONNECTION_ERRORS as exc:
        error = unavailable()
        log.warning("%s: %s", error.message, exc)
        raise error from exc

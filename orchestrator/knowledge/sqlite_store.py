"""The knowledge base in one SQLite file with FTS5 (BM25 ranking): `make run`, and `memory` (in memory).

The stdlib driver blocks, so one connection lives on one dedicated thread and every call runs there.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import TypeVar

from orchestrator.errors import ConfigError
from orchestrator.knowledge.model import Document, Hit, normalised

T = TypeVar("T")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS knowledge_collections (name TEXT PRIMARY KEY, owner TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS knowledge_documents (
    collection TEXT NOT NULL, id TEXT NOT NULL, source TEXT NOT NULL, metadata TEXT NOT NULL, timestamp TEXT,
    PRIMARY KEY (collection, id)
);
CREATE VIRTUAL TABLE IF NOT EXISTS knowledge_chunks USING fts5(
    content, collection UNINDEXED, document_id UNINDEXED, chunk_index UNINDEXED, tokenize = 'porter unicode61'
);
"""
_SEARCH = """
SELECT c.document_id, c.chunk_index, c.content, d.source, d.metadata, d.timestamp, -c.rank AS score
FROM (
    SELECT document_id, chunk_index, content, collection, rank FROM knowledge_chunks
    WHERE knowledge_chunks MATCH ? AND collection = ? ORDER BY rank LIMIT ?
) AS c JOIN knowledge_documents AS d ON d.collection = c.collection AND d.id = c.document_id
ORDER BY c.rank
"""


class SqliteKnowledgeStore:
    def __init__(self, conn: sqlite3.Connection, worker: ThreadPoolExecutor) -> None:
        self._conn = conn
        self._worker = worker

    @classmethod
    async def open(cls, path: str) -> SqliteKnowledgeStore:
        worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="knowledge-sqlite")

        def connect() -> sqlite3.Connection:
            conn = sqlite3.connect(path, timeout=10.0, isolation_level=None, check_same_thread=False)
            if path != ":memory:":
                conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)
            return conn

        try:
            conn = await asyncio.get_running_loop().run_in_executor(worker, connect)
        except sqlite3.Error as exc:
            worker.shutdown()
            raise ConfigError(f"knowledge.store.path: cannot use SQLite at {path}: {exc}") from None
        return cls(conn, worker)

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._worker, work, self._conn)

    async def owner(self, collection: str) -> str | None:
        def read(conn: sqlite3.Connection) -> str | None:
            row = conn.execute("SELECT owner FROM knowledge_collections WHERE name = ?", (collection,)).fetchone()
            return row[0] if row else None

        return await self._run(read)

    async def upsert(self, owner: str, collection: str, documents: list[tuple[Document, list[str]]]) -> int:
        def write(conn: sqlite3.Connection) -> int:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute("INSERT OR IGNORE INTO knowledge_collections VALUES (?, ?)", (collection, owner))
                count = 0
                for document, chunks in documents:
                    _remove(conn, collection, document.id)
                    stamp = document.timestamp.isoformat() if document.timestamp else None
                    conn.execute(
                        "INSERT INTO knowledge_documents VALUES (?, ?, ?, ?, ?)",
                        (collection, document.id, document.source, json.dumps(document.metadata), stamp),
                    )
                    conn.executemany(
                        "INSERT INTO knowledge_chunks (content, collection, document_id, chunk_index) "
                        "VALUES (?, ?, ?, ?)",
                        [(text, collection, document.id, i) for i, text in enumerate(chunks)],
                    )
                    count += len(chunks)
                conn.execute("COMMIT")
                return count
            except BaseException:
                conn.execute("ROLLBACK")
                raise

        return await self._run(write)

    async def delete(self, collection: str, ids: list[str]) -> int:
        def write(conn: sqlite3.Connection) -> int:
            conn.execute("BEGIN IMMEDIATE")
            try:
                if not ids:
                    targets = [r[0] for r in conn.execute(
                        "SELECT id FROM knowledge_documents WHERE collection = ?", (collection,)
                    )]  # fmt: skip
                    conn.execute("DELETE FROM knowledge_collections WHERE name = ?", (collection,))
                else:
                    targets = ids
                removed = sum(_remove(conn, collection, document_id) for document_id in targets)
                conn.execute("COMMIT")
                return removed
            except BaseException:
                conn.execute("ROLLBACK")
                raise

        return await self._run(write)

    async def search(self, collection: str, terms: list[str], top_k: int) -> list[Hit]:
        if not terms:
            return []
        # Each word quoted (FTS5 operators in the query mean nothing) and OR-ed: BM25 ranks by how many match.
        match = " OR ".join('"' + term.replace('"', '""') + '"' for term in terms)

        def read(conn: sqlite3.Connection) -> list[Hit]:
            rows = conn.execute(_SEARCH, (match, collection, top_k)).fetchall()
            return [
                Hit(r[0], int(r[1]), r[2], r[3], json.loads(r[4]), datetime.fromisoformat(r[5]) if r[5] else None,
                    float(r[6]))
                for r in rows
            ]  # fmt: skip

        return normalised(await self._run(read))

    async def aclose(self) -> None:
        await self._run(lambda conn: conn.close())
        self._worker.shutdown(wait=True)


def _remove(conn: sqlite3.Connection, collection: str, document_id: str) -> int:
    conn.execute("DELETE FROM knowledge_chunks WHERE collection = ? AND document_id = ?", (collection, document_id))
    cursor = conn.execute("DELETE FROM knowledge_documents WHERE collection = ? AND id = ?", (collection, document_id))
    return cursor.rowcount

"""The knowledge base in PostgreSQL, shared by every replica: built-in full-text search (a stored tsvector
with a GIN index, ranked by ts_rank), documents and chunks replaced in one transaction."""

from __future__ import annotations

import json

import asyncpg

from orchestrator.errors import Reason
from orchestrator.knowledge.model import Document, Hit, normalised
from orchestrator.state.postgres import Connections, open_pool

_SCHEMA_LOCK = (0x6F726368 + 3, 0)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS knowledge_collections (name text COLLATE "C" PRIMARY KEY, owner text NOT NULL);
CREATE TABLE IF NOT EXISTS knowledge_documents (
    collection text COLLATE "C" NOT NULL, id text COLLATE "C" NOT NULL, source text NOT NULL,
    metadata jsonb NOT NULL, timestamp timestamptz, PRIMARY KEY (collection, id)
);
CREATE TABLE IF NOT EXISTS knowledge_chunks (
    collection text COLLATE "C" NOT NULL, document_id text COLLATE "C" NOT NULL, chunk_index integer NOT NULL,
    content text NOT NULL,
    tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', content)) STORED,
    PRIMARY KEY (collection, document_id, chunk_index)
);
CREATE INDEX IF NOT EXISTS knowledge_chunks_tsv ON knowledge_chunks USING gin (tsv);
"""
_SEARCH = """
WITH q AS (SELECT to_tsquery('english', $2) AS query),
best AS (
    SELECT c.document_id, c.chunk_index, c.content, ts_rank(c.tsv, q.query) AS score
    FROM knowledge_chunks AS c CROSS JOIN q
    WHERE c.collection = $1 AND c.tsv @@ q.query
    ORDER BY score DESC, c.document_id, c.chunk_index LIMIT $3
)
SELECT b.document_id, b.chunk_index, b.content, d.source, d.metadata, d.timestamp, b.score
FROM best AS b JOIN knowledge_documents AS d ON d.collection = $1 AND d.id = b.document_id
ORDER BY b.score DESC, b.document_id, b.chunk_index
"""


class PostgresKnowledgeStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._db = Connections(pool, Reason.KNOWLEDGE_STORE_UNAVAILABLE, "the knowledge base")
        self._run = self._db.run

    @classmethod
    async def open(cls, dsn: str) -> PostgresKnowledgeStore:
        return cls(await open_pool(dsn, _SCHEMA, _SCHEMA_LOCK, "knowledge.store.dsn"))

    async def owner(self, collection: str) -> str | None:
        query = "SELECT owner FROM knowledge_collections WHERE name = $1"
        return await self._run(lambda conn: conn.fetchval(query, collection))

    async def upsert(self, owner: str, collection: str, documents: list[tuple[Document, list[str]]]) -> int:
        async def work(conn: asyncpg.Connection) -> int:
            async with conn.transaction():
                await conn.execute(
                    "INSERT INTO knowledge_collections VALUES ($1, $2) ON CONFLICT DO NOTHING", collection, owner
                )
                ids = [document.id for document, _ in documents]
                await conn.execute(
                    "DELETE FROM knowledge_chunks WHERE collection = $1 AND document_id = ANY($2)", collection, ids
                )
                await conn.execute(
                    "DELETE FROM knowledge_documents WHERE collection = $1 AND id = ANY($2)", collection, ids
                )
                await conn.executemany(
                    "INSERT INTO knowledge_documents VALUES ($1, $2, $3, $4, $5)",
                    [(collection, d.id, d.source, json.dumps(d.metadata), d.timestamp) for d, _ in documents],
                )
                rows = [(collection, d.id, i, text) for d, chunks in documents for i, text in enumerate(chunks)]
                await conn.copy_records_to_table(
                    "knowledge_chunks", records=rows, columns=["collection", "document_id", "chunk_index", "content"]
                )
                return len(rows)

        return int(await self._run(work))

    async def delete(self, collection: str, ids: list[str]) -> int:
        async def work(conn: asyncpg.Connection) -> int:
            async with conn.transaction():
                if not ids:
                    await conn.execute("DELETE FROM knowledge_chunks WHERE collection = $1", collection)
                    status = await conn.execute("DELETE FROM knowledge_documents WHERE collection = $1", collection)
                    await conn.execute("DELETE FROM knowledge_collections WHERE name = $1", collection)
                else:
                    await conn.execute(
                        "DELETE FROM knowledge_chunks WHERE collection = $1 AND document_id = ANY($2)", collection, ids
                    )
                    status = await conn.execute(
                        "DELETE FROM knowledge_documents WHERE collection = $1 AND id = ANY($2)", collection, ids
                    )
                return int(status.split()[-1])

        return int(await self._run(work))

    async def search(self, collection: str, terms: list[str], top_k: int) -> list[Hit]:
        if not terms:
            return []
        # Each word as a quoted lexeme, OR-ed: the rank rewards chunks matching more of them.
        query = " | ".join("'" + term.replace("'", "''").replace("\\", "") + "'" for term in terms)
        rows = await self._run(lambda conn: conn.fetch(_SEARCH, collection, query, top_k))
        return normalised(
            [
                Hit(r["document_id"], r["chunk_index"], r["content"], r["source"], json.loads(r["metadata"]),
                    r["timestamp"], float(r["score"]))
                for r in rows
            ]
        )  # fmt: skip

    async def aclose(self) -> None:
        await self._db.aclose()

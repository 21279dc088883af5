"""Conversations in PostgreSQL (when the template store is PostgreSQL): turns keep their order by a per-
conversation sequence; the lease is a row lock-free timestamp, so replicas serialise requests on one
conversation without holding a connection for the request's duration."""

from __future__ import annotations

from datetime import timedelta

import asyncpg

from orchestrator.conversations.model import (
    ConversationInfo,
    ConversationPage,
    Summary,
    Turn,
    decode_page_token,
    encode_page_token,
)
from orchestrator.errors import Reason
from orchestrator.state.postgres import Connections, open_pool

_SCHEMA_LOCK = (0x6F726368 + 2, 0)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    service text COLLATE "C" NOT NULL,
    conversation_id text COLLATE "C" NOT NULL,
    create_time timestamptz NOT NULL DEFAULT now(),
    update_time timestamptz NOT NULL DEFAULT now(),
    turn_count integer NOT NULL DEFAULT 0,
    next_seq bigint NOT NULL DEFAULT 0,
    summary_upto integer,
    summary text,
    lease_token text,
    lease_until timestamptz,
    PRIMARY KEY (service, conversation_id)
);
CREATE INDEX IF NOT EXISTS conversations_recent ON conversations (service, update_time DESC);
CREATE TABLE IF NOT EXISTS conversation_turns (
    service text COLLATE "C" NOT NULL,
    conversation_id text COLLATE "C" NOT NULL,
    seq bigint NOT NULL,
    role text NOT NULL,
    content text NOT NULL,
    request_id text NOT NULL,
    model text NOT NULL,
    create_time timestamptz NOT NULL,
    PRIMARY KEY (service, conversation_id, seq)
);
"""
_LIVE = "turn_count > 0 AND update_time > now() - $3 * interval '1 second'"


class PostgresConversationStore:
    def __init__(self, pool: asyncpg.Pool, max_turns: int, ttl_seconds: int) -> None:
        self._db = Connections(pool, Reason.CONVERSATION_STORE_UNAVAILABLE, "the conversation store")
        self._run = self._db.run
        self._max_turns = max_turns
        self._ttl = ttl_seconds

    @classmethod
    async def open(cls, dsn: str, max_turns: int = 200, ttl_seconds: int = 7 * 86_400) -> PostgresConversationStore:
        return cls(await open_pool(dsn, _SCHEMA, _SCHEMA_LOCK, "conversations.store"), max_turns, ttl_seconds)

    async def turns(self, service: str, conversation_id: str) -> list[Turn]:
        query = f"""
            SELECT t.role, t.content, t.request_id, t.model, t.create_time FROM conversation_turns AS t
            JOIN conversations AS c USING (service, conversation_id)
            WHERE t.service = $1 AND t.conversation_id = $2 AND c.{_LIVE} ORDER BY t.seq
        """
        rows = await self._run(lambda conn: conn.fetch(query, service, conversation_id, self._ttl))
        return [Turn(r["role"], r["content"], r["request_id"], r["model"], r["create_time"]) for r in rows]

    def _info(self, row: asyncpg.Record) -> ConversationInfo:
        expires = row["update_time"] + timedelta(seconds=self._ttl)
        return ConversationInfo(
            row["conversation_id"], row["turn_count"], row["create_time"], row["update_time"], expires
        )

    async def info(self, service: str, conversation_id: str) -> ConversationInfo | None:
        query = f"SELECT * FROM conversations WHERE service = $1 AND conversation_id = $2 AND {_LIVE}"
        row = await self._run(lambda conn: conn.fetchrow(query, service, conversation_id, self._ttl))
        return self._info(row) if row else None

    async def append(self, service: str, conversation_id: str, turns: list[Turn]) -> None:
        async def work(conn: asyncpg.Connection) -> None:
            async with conn.transaction():
                await conn.execute(
                    "INSERT INTO conversations (service, conversation_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    service, conversation_id,
                )  # fmt: skip
                row = await conn.fetchrow(
                    "SELECT next_seq, update_time < now() - $3 * interval '1 second' AS expired FROM conversations "
                    "WHERE service = $1 AND conversation_id = $2 FOR UPDATE",
                    service, conversation_id, self._ttl,
                )  # fmt: skip
                if row["expired"]:  # a forgotten conversation starts again
                    await conn.execute(
                        "DELETE FROM conversation_turns WHERE service = $1 AND conversation_id = $2",
                        service, conversation_id,
                    )  # fmt: skip
                    await conn.execute(
                        "UPDATE conversations SET create_time = now(), turn_count = 0, summary = NULL, "
                        "summary_upto = NULL WHERE service = $1 AND conversation_id = $2",
                        service, conversation_id,
                    )  # fmt: skip
                seq = row["next_seq"]
                await conn.executemany(
                    "INSERT INTO conversation_turns VALUES ($1, $2, $3, $4, $5, $6, $7, now())",
                    [(service, conversation_id, seq + i, t.role, t.content, t.request_id, t.model)
                     for i, t in enumerate(turns)],
                )  # fmt: skip
                trimmed = await conn.execute(
                    "DELETE FROM conversation_turns WHERE service = $1 AND conversation_id = $2 AND seq < $3",
                    service, conversation_id, seq + len(turns) - self._max_turns,
                )  # fmt: skip
                cleared = ", summary = NULL, summary_upto = NULL" if trimmed != "DELETE 0" else ""
                await conn.execute(
                    "UPDATE conversations SET next_seq = $3, update_time = now(), turn_count = (SELECT count(*) "
                    "FROM conversation_turns WHERE service = $1 AND conversation_id = $2)" + cleared
                    + " WHERE service = $1 AND conversation_id = $2",
                    service, conversation_id, seq + len(turns),
                )  # fmt: skip

        await self._run(work)

    async def list(self, service: str, page_size: int, page_token: str = "") -> ConversationPage:
        offset = decode_page_token(page_token) if page_token else 0
        query = (
            f"SELECT * FROM conversations WHERE service = $1 AND {_LIVE.replace('$3', '$4')} "
            "ORDER BY update_time DESC, conversation_id DESC OFFSET $2 LIMIT $3"
        )
        rows = await self._run(lambda conn: conn.fetch(query, service, offset, page_size + 1, self._ttl))
        more = len(rows) > page_size
        return ConversationPage(
            [self._info(r) for r in rows[:page_size]], encode_page_token(offset + page_size) if more else ""
        )

    async def delete(self, service: str, conversation_id: str) -> int:
        async def work(conn: asyncpg.Connection) -> int:
            async with conn.transaction():
                status = await conn.execute(
                    "DELETE FROM conversation_turns WHERE service = $1 AND conversation_id = $2",
                    service, conversation_id,
                )  # fmt: skip
                await conn.execute(
                    "DELETE FROM conversations WHERE service = $1 AND conversation_id = $2", service, conversation_id
                )
                return int(status.split()[-1])

        return int(await self._run(work))

    async def acquire(self, service: str, conversation_id: str, token: str, seconds: float) -> bool:
        query = """
            INSERT INTO conversations AS c (service, conversation_id, lease_token, lease_until)
            VALUES ($1, $2, $3, now() + $4 * interval '1 second')
            ON CONFLICT (service, conversation_id) DO UPDATE
            SET lease_token = EXCLUDED.lease_token, lease_until = EXCLUDED.lease_until
            WHERE c.lease_until IS NULL OR c.lease_until < now()
            RETURNING 1
        """
        return await self._run(lambda conn: conn.fetchval(query, service, conversation_id, token, seconds)) == 1

    async def release(self, service: str, conversation_id: str, token: str) -> None:
        query = (
            "UPDATE conversations SET lease_token = NULL, lease_until = NULL "
            "WHERE service = $1 AND conversation_id = $2 AND lease_token = $3"
        )
        await self._run(lambda conn: conn.execute(query, service, conversation_id, token))

    async def summary(self, service: str, conversation_id: str) -> Summary | None:
        query = "SELECT summary_upto, summary FROM conversations WHERE service = $1 AND conversation_id = $2"
        row = await self._run(lambda conn: conn.fetchrow(query, service, conversation_id))
        return Summary(row["summary_upto"], row["summary"]) if row and row["summary"] is not None else None

    async def save_summary(self, service: str, conversation_id: str, summary: Summary) -> None:
        query = "UPDATE conversations SET summary_upto = $3, summary = $4 WHERE service = $1 AND conversation_id = $2"
        await self._run(lambda conn: conn.execute(query, service, conversation_id, summary.upto, summary.text))

    async def aclose(self) -> None:
        await self._db.aclose()

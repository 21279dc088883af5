"""Templates in PostgreSQL, shared by many replicas. Same behaviour as MemoryTemplateStore.

Writes to one template id are serialised across every replica by a transaction-scoped advisory lock
on (namespace, hashtext(id)), taken before the versions are read: concurrent creates get distinct
versions and a delete never races a create. Reads take no lock. Tables are created at start, under
an advisory lock of their own, so replicas starting together do not trip over each other's DDL.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import parse_qs, unquote, urlsplit

import asyncpg

from orchestrator.errors import ConfigError, Reason, UnavailableError
from orchestrator.templates.model import PromptTemplate
from orchestrator.templates.rows import decode_template, encode_body, use_case_needle, use_cases_key
from orchestrator.templates.store import (
    TemplatePage,
    decode_page_token,
    encode_page_token,
    etag_mismatch,
    next_version,
    template_not_found,
    version_exists,
)

log = logging.getLogger(__name__)

_LOCK_NAMESPACE = 0x6F726368  # "orch": first key of pg_advisory_xact_lock(int, int) for template ids
_SCHEMA_LOCK = (_LOCK_NAMESPACE + 1, 0)
# COLLATE "C": ids compare by code point, as the memory store sorts them (a locale would reorder them).
_SCHEMA = """
CREATE TABLE IF NOT EXISTS prompt_templates (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    template_id text COLLATE "C" NOT NULL,
    version text COLLATE "C" NOT NULL,
    etag text NOT NULL,
    create_time timestamptz NOT NULL,
    use_cases text NOT NULL,
    body text NOT NULL,
    UNIQUE (template_id, version)
);
CREATE INDEX IF NOT EXISTS prompt_templates_latest ON prompt_templates (template_id, seq);
CREATE TABLE IF NOT EXISTS prompt_template_versions_used (
    template_id text COLLATE "C" NOT NULL,
    version text COLLATE "C" NOT NULL,
    PRIMARY KEY (template_id, version)
);
"""
_COLUMNS = "template_id, version, etag, create_time, body"
_LATEST = f"SELECT {_COLUMNS} FROM prompt_templates WHERE template_id = $1 ORDER BY seq DESC LIMIT 1"
_PINNED = f"SELECT {_COLUMNS} FROM prompt_templates WHERE template_id = $1 AND version = $2"
_LOCK = "SELECT pg_advisory_xact_lock($1::int4, hashtext($2))"
_USED = """
SELECT u.version, t.etag FROM prompt_template_versions_used AS u
LEFT JOIN prompt_templates AS t ON t.template_id = u.template_id AND t.version = u.version
WHERE u.template_id = $1
"""
_INSERT = """
WITH used AS (INSERT INTO prompt_template_versions_used (template_id, version) VALUES ($1, $2))
INSERT INTO prompt_templates (template_id, version, etag, create_time, use_cases, body)
VALUES ($1, $2, $3, $4, $5, $6)
"""
_PAGE = f"""
SELECT {_COLUMNS} FROM prompt_templates AS t
WHERE t.template_id > $1
  AND t.seq = (SELECT max(seq) FROM prompt_templates AS l WHERE l.template_id = t.template_id)
  AND strpos(t.use_cases, $2) > 0
ORDER BY t.template_id LIMIT $3
"""
# A server that stops answering (frozen, partitioned) fails a call after this long instead of holding it.
_CALL_SECONDS = 10.0
# The connection, not the request, failed: the caller may retry.
_CONNECTION_ERRORS = (
    TimeoutError,
    OSError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
)


def _row(row: asyncpg.Record) -> PromptTemplate:
    return decode_template(row["template_id"], row["version"], row["etag"], row["create_time"], row["body"])


def _nul_free(text: str) -> bool:
    # PostgreSQL text cannot hold NUL, so no stored id or version contains one.
    return "\x00" not in text


def _describe(dsn: str) -> tuple[str, list[str]]:
    """Where the DSN points (host:port/database, no credentials), and the secrets to scrub from messages."""
    try:
        parts = urlsplit(dsn)
        where = f"{parts.hostname or 'localhost'}:{parts.port or 5432}{parts.path or ''}"
        secrets = [parts.password or "", *parse_qs(parts.query).get("password", [])]
    except ValueError:
        where, secrets = "(unparsable dsn)", []
    secrets = [s for s in secrets if s]
    return where, secrets + [unquote(s) for s in secrets]


class PostgresTemplateStore:
    may_be_unreachable = True

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @classmethod
    async def open(cls, dsn: str, min_size: int = 1, max_size: int = 10) -> PostgresTemplateStore:
        """Connect and create the tables if missing; ConfigError naming `templates.store.dsn` if that fails."""
        pool: asyncpg.Pool | None = None
        try:
            pool = await asyncpg.create_pool(
                dsn, min_size=min_size, max_size=max_size, timeout=_CALL_SECONDS, command_timeout=_CALL_SECONDS
            )
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock($1::int4, $2::int4)", *_SCHEMA_LOCK)
                await conn.execute(_SCHEMA)
        except (OSError, ValueError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            if pool is not None:
                pool.terminate()
            where, secrets = _describe(dsn)
            reason = str(exc) or type(exc).__name__
            for secret in secrets:
                reason = reason.replace(secret, "***")
            raise ConfigError(f"templates.store.dsn: cannot use PostgreSQL at {where}: {reason}") from None
        return cls(pool)

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[asyncpg.Connection]:
        try:
            async with self._pool.acquire(timeout=_CALL_SECONDS) as conn:
                yield conn
        except _CONNECTION_ERRORS as exc:
            log.warning("template store unavailable: %s", exc)
            raise UnavailableError(
                "the template store is unavailable; retry later",
                reason=Reason.TEMPLATE_STORE_UNAVAILABLE,
                retry_after=1.0,
            ) from exc

    async def create(self, template: PromptTemplate) -> PromptTemplate:
        template_id = template.template_id
        async with self._connection() as conn, conn.transaction():
            await conn.execute(_LOCK, _LOCK_NAMESPACE, template_id)
            etags = {r["version"]: r["etag"] for r in await conn.fetch(_USED, template_id)}
            version = template.version or next_version(list(etags))
            if version in etags:
                if etags[version] is not None and etags[version] == template.content_key():
                    return _row(await conn.fetchrow(_PINNED, template_id, version))
                raise version_exists(template_id, version, deleted=etags[version] is None)
            stored = template.stamped(version)
            await conn.execute(
                _INSERT,
                template_id,
                version,
                stored.etag,
                stored.create_time,
                use_cases_key(stored.metadata.use_cases),
                encode_body(stored),
            )
            return stored

    async def get(self, template_id: str, version: str = "") -> PromptTemplate:
        async with self._connection() as conn:
            return await self._get(conn, template_id, version)

    async def _get(self, conn: asyncpg.Connection, template_id: str, version: str) -> PromptTemplate:
        row = None
        if _nul_free(template_id) and _nul_free(version):
            row = await (
                conn.fetchrow(_PINNED, template_id, version) if version else conn.fetchrow(_LATEST, template_id)
            )
        if row is None:
            raise template_not_found(template_id, version)
        return _row(row)

    async def list(self, page_size: int, page_token: str = "", use_case: str = "") -> TemplatePage:
        # Ids hold no NUL, so "after x<NUL>y" selects exactly what "after x" does.
        after = decode_page_token(page_token).split("\x00", 1)[0] if page_token else ""
        limit = page_size if page_size > 0 else None  # like the memory store: no positive size, no limit
        async with self._connection() as conn:
            page = [_row(r) for r in await conn.fetch(_PAGE, after, use_case_needle(use_case), limit)]
            if limit is None or len(page) < page_size:
                return TemplatePage(page, "")
            # Like the memory store: a token whenever any template follows, matching the filter or not.
            last = page[-1].template_id
            more = await conn.fetchval("SELECT 1 FROM prompt_templates WHERE template_id > $1 LIMIT 1", last)
        return TemplatePage(page, encode_page_token(last) if more else "")

    async def delete(self, template_id: str, version: str = "", etag: str = "") -> list[str]:
        async with self._connection() as conn, conn.transaction():
            if _nul_free(template_id):
                await conn.execute(_LOCK, _LOCK_NAMESPACE, template_id)
            target = await self._get(conn, template_id, version)
            if etag and etag != target.etag:
                raise etag_mismatch(template_id, target.version)
            if version:
                query = "DELETE FROM prompt_templates WHERE template_id = $1 AND version = $2"
                await conn.execute(query, template_id, version)
                return [version]
            query = "DELETE FROM prompt_templates WHERE template_id = $1 RETURNING seq, version"
            rows = await conn.fetch(query, template_id)
            return [r["version"] for r in sorted(rows, key=lambda r: r["seq"])]

    async def aclose(self) -> None:
        await self._pool.close()

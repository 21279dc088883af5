"""Templates in one SQLite file: the embedded default. Same behaviour as MemoryTemplateStore.

The connection lives on the store's own thread (orchestrator.state.sqlite.SqliteThread). Writes use BEGIN
IMMEDIATE, which takes the file's write lock before reading: versions stay distinct even when two processes
share the file (WAL mode lets readers go on).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

from orchestrator.state.sqlite import SqliteThread
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

_SCHEMA = """
BEGIN IMMEDIATE;
-- Live versions; `seq` orders them by creation, so the latest is the highest.
CREATE TABLE IF NOT EXISTS prompt_templates (
    seq INTEGER PRIMARY KEY,
    template_id TEXT NOT NULL,
    version TEXT NOT NULL,
    etag TEXT NOT NULL,
    create_time TEXT NOT NULL,
    use_cases TEXT NOT NULL,
    body TEXT NOT NULL,
    UNIQUE (template_id, version)
);
CREATE INDEX IF NOT EXISTS prompt_templates_latest ON prompt_templates (template_id, seq);
-- Every version ever issued, deleted ones too: a deleted version is never issued again.
CREATE TABLE IF NOT EXISTS prompt_template_versions_used (
    template_id TEXT NOT NULL,
    version TEXT NOT NULL,
    PRIMARY KEY (template_id, version)
) WITHOUT ROWID;
COMMIT;
"""
_COLUMNS = "template_id, version, etag, create_time, body"
_LATEST = f"SELECT {_COLUMNS} FROM prompt_templates WHERE template_id = ? ORDER BY seq DESC LIMIT 1"
_PINNED = f"SELECT {_COLUMNS} FROM prompt_templates WHERE template_id = ? AND version = ?"
_USED = "SELECT version FROM prompt_template_versions_used WHERE template_id = ?"
_PAGE = f"""
SELECT {_COLUMNS} FROM prompt_templates AS t
WHERE t.template_id > ?
  AND t.seq = (SELECT max(seq) FROM prompt_templates AS l WHERE l.template_id = t.template_id)
  AND instr(t.use_cases, ?) > 0
ORDER BY t.template_id LIMIT ?
"""


def _schema(conn: sqlite3.Connection) -> None:
    conn.executescript(_SCHEMA)


def _row(row: tuple[Any, ...]) -> PromptTemplate:
    template_id, version, etag, create_time, body = row
    return decode_template(template_id, version, etag, datetime.fromisoformat(create_time).astimezone(UTC), body)


class SqliteTemplateStore:
    may_be_unreachable = False  # a local file: it fails loudly rather than going away

    def __init__(self, db: SqliteThread) -> None:
        self._db = db
        self._conn = db.conn
        self._run = db.run
        self._immediate = db.immediate

    @classmethod
    async def open(cls, path: str) -> SqliteTemplateStore:
        return cls(await SqliteThread.open(path, _schema, "templates.store.path", "template-sqlite"))

    # Each _sync method runs on the store's thread.
    def _get_sync(self, template_id: str, version: str) -> PromptTemplate:
        if version:
            row = self._conn.execute(_PINNED, (template_id, version)).fetchone()
        else:
            row = self._conn.execute(_LATEST, (template_id,)).fetchone()
        if row is None:
            raise template_not_found(template_id, version)
        return _row(row)

    def _create_sync(self, template: PromptTemplate) -> PromptTemplate:
        template_id = template.template_id
        with self._immediate() as conn:
            used = [v for (v,) in conn.execute(_USED, (template_id,))]
            version = template.version or next_version(used)
            if version in used:
                row = conn.execute(_PINNED, (template_id, version)).fetchone()
                if row is not None and row[2] == template.content_key():
                    return _row(row)
                raise version_exists(template_id, version, deleted=row is None)
            stored = template.stamped(version)
            assert stored.create_time is not None
            conn.execute("INSERT INTO prompt_template_versions_used VALUES (?, ?)", (template_id, version))
            conn.execute(
                "INSERT INTO prompt_templates (template_id, version, etag, create_time, use_cases, body)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    template_id,
                    version,
                    stored.etag,
                    stored.create_time.isoformat(),
                    use_cases_key(stored.metadata.use_cases),
                    encode_body(stored),
                ),
            )
            return stored

    def _list_sync(self, page_size: int, after: str, use_case: str) -> TemplatePage:
        limit = page_size if page_size > 0 else -1  # like the memory store: no positive size, no limit
        rows = self._conn.execute(_PAGE, (after, use_case_needle(use_case), limit)).fetchall()
        page = [_row(r) for r in rows]
        if page_size <= 0 or len(page) < page_size:
            return TemplatePage(page, "")
        # Like the memory store: a token whenever any template follows, matching the filter or not.
        last = page[-1].template_id
        more = self._conn.execute("SELECT 1 FROM prompt_templates WHERE template_id > ? LIMIT 1", (last,)).fetchone()
        return TemplatePage(page, encode_page_token(last) if more else "")

    def _delete_sync(self, template_id: str, version: str, etag: str) -> list[str]:
        with self._immediate() as conn:
            target = self._get_sync(template_id, version)
            if etag and etag != target.etag:
                raise etag_mismatch(template_id, target.version)
            if version:
                conn.execute(
                    "DELETE FROM prompt_templates WHERE template_id = ? AND version = ?", (template_id, version)
                )
                return [version]
            query = "SELECT version FROM prompt_templates WHERE template_id = ? ORDER BY seq"
            removed = [v for (v,) in conn.execute(query, (template_id,))]
            conn.execute("DELETE FROM prompt_templates WHERE template_id = ?", (template_id,))
            return removed

    async def create(self, template: PromptTemplate) -> PromptTemplate:
        return await self._run(self._create_sync, template)

    async def get(self, template_id: str, version: str = "") -> PromptTemplate:
        return await self._run(self._get_sync, template_id, version)

    async def list(self, page_size: int, page_token: str = "", use_case: str = "") -> TemplatePage:
        after = decode_page_token(page_token) if page_token else ""
        return await self._run(self._list_sync, page_size, after, use_case)

    async def delete(self, template_id: str, version: str = "", etag: str = "") -> list[str]:
        return await self._run(self._delete_sync, template_id, version, etag)

    async def aclose(self) -> None:
        await self._db.aclose()

"""The SQL both stores run (SQLite and PostgreSQL accept the same text; PostgreSQL numbers its parameters).

Timestamps are seconds since the epoch (double precision), so both engines compare and prune them alike.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from typing import Any

from orchestrator.feedback.records import FeedbackRecord, GroupTotals, RequestRecord

REQUEST_COLUMNS = (
    "service", "request_id", "task_type", "template_id", "template_version", "model", "outcome", "rejected_answers",
    "reasks", "latency_ms", "input_tokens", "output_tokens", "cost_usd", "cache_hit", "created_at",
)  # fmt: skip
SCHEMA = (
    """CREATE TABLE IF NOT EXISTS request_ledger (
    service TEXT NOT NULL,
    request_id TEXT NOT NULL,
    task_type TEXT NOT NULL,
    template_id TEXT NOT NULL,
    template_version TEXT NOT NULL,
    model TEXT NOT NULL,
    outcome TEXT NOT NULL,
    rejected_answers INTEGER NOT NULL,
    reasks INTEGER NOT NULL,
    latency_ms DOUBLE PRECISION NOT NULL,
    input_tokens BIGINT NOT NULL,
    output_tokens BIGINT NOT NULL,
    cost_usd DOUBLE PRECISION NOT NULL,
    cache_hit BOOLEAN NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (service, request_id)
)""",
    "CREATE INDEX IF NOT EXISTS request_ledger_task ON request_ledger (task_type, created_at)",
    "CREATE INDEX IF NOT EXISTS request_ledger_age ON request_ledger (created_at)",
    """CREATE TABLE IF NOT EXISTS request_feedback (
    service TEXT NOT NULL,
    request_id TEXT NOT NULL,
    score DOUBLE PRECISION,
    label TEXT NOT NULL,
    comment TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (service, request_id)
)""",
)
_UPDATES = ", ".join(f"{c} = excluded.{c}" for c in REQUEST_COLUMNS[2:])
ADD_REQUEST = (
    f"INSERT INTO request_ledger ({', '.join(REQUEST_COLUMNS)}) VALUES ({', '.join('?' * len(REQUEST_COLUMNS))}) "
    f"ON CONFLICT (service, request_id) DO UPDATE SET {_UPDATES}"
)
GET_REQUEST = f"SELECT {', '.join(REQUEST_COLUMNS)} FROM request_ledger WHERE service = ? AND request_id = ?"
PUT_FEEDBACK = (
    "INSERT INTO request_feedback (service, request_id, score, label, comment, created_at) VALUES (?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (service, request_id) DO UPDATE SET score = excluded.score, label = excluded.label, "
    "comment = excluded.comment, created_at = excluded.created_at"
)
TOTALS = """
SELECT r.template_version, r.model, count(*),
       sum(CASE WHEN r.rejected_answers > 0 THEN 1 ELSE 0 END), sum(r.reasks), sum(r.cost_usd),
       count(f.request_id), count(f.score), coalesce(sum(f.score), 0), coalesce(sum(f.score * f.score), 0)
FROM request_ledger AS r
LEFT JOIN request_feedback AS f ON f.service = r.service AND f.request_id = r.request_id
WHERE r.task_type = ? AND r.created_at >= ?
GROUP BY r.template_version, r.model
ORDER BY r.template_version, r.model
"""
PRUNE = (
    "DELETE FROM request_ledger WHERE created_at < ?",
    # All but the newest `keep`: the (keep+1)-th newest and older (an OFFSET past the end selects nothing, and
    # `<= NULL` deletes nothing).
    "DELETE FROM request_ledger WHERE created_at <= "
    "(SELECT created_at FROM request_ledger ORDER BY created_at DESC LIMIT 1 OFFSET ?)",
    "DELETE FROM request_feedback WHERE NOT EXISTS (SELECT 1 FROM request_ledger AS r "
    "WHERE r.service = request_feedback.service AND r.request_id = request_feedback.request_id)",
)


def numbered(sql: str) -> str:
    """PostgreSQL's $1, $2, ... for SQLite's ? (none of these statements has a ? inside a literal)."""
    counter = itertools.count(1)
    return re.sub(r"\?", lambda _: f"${next(counter)}", sql)


def request_row(record: RequestRecord) -> tuple[Any, ...]:
    return tuple(getattr(record, column) for column in REQUEST_COLUMNS)


def request_of(row: Sequence[Any]) -> RequestRecord:
    values = dict(zip(REQUEST_COLUMNS, row, strict=True))
    values["cache_hit"] = bool(values["cache_hit"])
    return RequestRecord(**values)


def feedback_row(feedback: FeedbackRecord) -> tuple[Any, ...]:
    return (feedback.service, feedback.request_id, feedback.score, feedback.label, feedback.comment,
            feedback.created_at)  # fmt: skip


def totals_of(row: Sequence[Any]) -> GroupTotals:
    # PostgreSQL returns bigint counts and numeric sums; both engines end up as the same Python types.
    version, model, requests, rejected, reasks, cost, feedback, scored, score_sum, squares = row
    return GroupTotals(
        version, model, int(requests), int(rejected or 0), int(reasks or 0), float(cost or 0.0), int(feedback),
        int(scored), float(score_sum), float(squares),
    )  # fmt: skip

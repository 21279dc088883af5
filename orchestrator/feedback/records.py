"""What the request ledger and the feedback store hold, the store interface, and the in-memory store.

The ledger is keyed by (service, request_id): request ids are chosen by callers, so two services may use the
same one, and a service only ever sees its own. A request recorded again (the same id reused) replaces the
earlier record, and feedback on a request replaces earlier feedback on it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

# Key and text columns hold caller-chosen strings; PostgreSQL text cannot hold NUL.
MAX_KEY_CHARS = 128


def clean(text: str, limit: int = MAX_KEY_CHARS) -> str:
    """Caller text as stored: at most `limit` characters, NUL replaced (so lookups see the same key)."""
    return text[:limit].replace("\x00", "\ufffd")


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """What one generation was, written to the ledger when it completes (feedback joins it later)."""

    service: str
    request_id: str
    task_type: str
    template_id: str
    template_version: str
    model: str  # the model that answered (failed: the last one tried)
    outcome: str  # "success", or the error's reason
    rejected_answers: int  # answers the acceptance check rejected (format, schema, validators)
    reasks: int
    latency_ms: float
    input_tokens: int
    output_tokens: int
    cost_usd: float
    cache_hit: bool
    created_at: float  # seconds since the epoch


@dataclass(frozen=True, slots=True)
class FeedbackRecord:
    service: str
    request_id: str
    score: float | None  # 0..1: given, or the label's configured score
    label: str
    comment: str
    created_at: float


@dataclass(frozen=True, slots=True)
class GroupTotals:
    """Sums over one (template version, model) group of a task's ledger, with the feedback joined."""

    template_version: str
    model: str
    requests: int
    rejected_requests: int  # requests with at least one rejected answer
    reasks: int
    cost_usd: float
    feedback: int  # requests with feedback
    scored: int  # ... of which with a score
    score_sum: float
    score_squares: float


class FeedbackStore(Protocol):
    async def add_requests(self, records: Sequence[RequestRecord]) -> None: ...
    async def get_request(self, service: str, request_id: str) -> RequestRecord | None: ...
    async def put_feedback(self, feedback: FeedbackRecord) -> None: ...
    async def totals(self, task_type: str, since: float) -> list[GroupTotals]:
        """Per (template version, model) of the task, requests created at or after `since`, in that order."""
        ...

    async def prune(self, older_than: float, keep: int) -> None:
        """Delete requests created before `older_than`, then all but the newest `keep`, and their feedback."""
        ...

    async def aclose(self) -> None: ...


def group_totals(rows: Iterable[tuple[RequestRecord, FeedbackRecord | None]]) -> list[GroupTotals]:
    """The totals of (request, feedback) pairs, grouped and ordered as the SQL stores do."""
    sums: dict[tuple[str, str], list[float]] = {}
    for request, feedback in rows:
        group = sums.setdefault((request.template_version, request.model), [0.0] * 8)
        score = feedback.score if feedback is not None else None
        for i, value in enumerate(
            (1, request.rejected_answers > 0, request.reasks, request.cost_usd, feedback is not None,
             score is not None, score or 0.0, (score or 0.0) ** 2)
        ):  # fmt: skip
            group[i] += value
    return [
        GroupTotals(version, model, int(s[0]), int(s[1]), int(s[2]), s[3], int(s[4]), int(s[5]), s[6], s[7])
        for (version, model), s in sorted(sums.items())
    ]


class MemoryFeedbackStore:
    """This process only (tests, single-process runs); bounded like the others by `prune`, and by `limit`."""

    def __init__(self, limit: int = 1_000_000) -> None:
        self._limit = limit
        self._requests: OrderedDict[tuple[str, str], RequestRecord] = OrderedDict()
        self._feedback: dict[tuple[str, str], FeedbackRecord] = {}

    async def add_requests(self, records: Sequence[RequestRecord]) -> None:
        for record in records:
            key = (record.service, record.request_id)
            self._requests.pop(key, None)
            self._requests[key] = record
        while len(self._requests) > self._limit:
            key, _ = self._requests.popitem(last=False)
            self._feedback.pop(key, None)

    async def get_request(self, service: str, request_id: str) -> RequestRecord | None:
        return self._requests.get((service, request_id))

    async def put_feedback(self, feedback: FeedbackRecord) -> None:
        self._feedback[(feedback.service, feedback.request_id)] = feedback

    async def totals(self, task_type: str, since: float) -> list[GroupTotals]:
        return group_totals(
            (r, self._feedback.get(key))
            for key, r in self._requests.items()
            if r.task_type == task_type and r.created_at >= since
        )

    async def prune(self, older_than: float, keep: int) -> None:
        newest = sorted(self._requests.items(), key=lambda item: item[1].created_at)[-keep:] if keep else []
        self._requests = OrderedDict((k, r) for k, r in newest if r.created_at >= older_than)
        self._feedback = {k: f for k, f in self._feedback.items() if k in self._requests}

    async def aclose(self) -> None:
        return None

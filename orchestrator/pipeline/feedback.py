"""RecordFeedback as a domain operation: a service scores (or labels) one of its own answers.

The request is looked up in the ledger under (calling service, request id). Another service's request is
NOT_FOUND, exactly like an id never used: request ids are chosen by callers, so each service has its own
namespace of them, and PERMISSION_DENIED would tell a service that some other service used that id.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from orchestrator.domain import Caller
from orchestrator.errors import FieldViolation, NotFoundError, Reason, invalid_fields
from orchestrator.feedback import FeedbackRecord, RequestLedger, RequestRecord
from orchestrator.feedback.records import MAX_KEY_CHARS, clean
from orchestrator.telemetry.experiments import ExperimentMetrics


@dataclass(frozen=True, slots=True)
class FeedbackReceipt:
    """The feedback as stored, and the request it was joined to."""

    request: RequestRecord
    score: float  # given, or the label's configured score
    label: str


class FeedbackOperations:
    def __init__(
        self,
        ledger: RequestLedger,
        label_scores: Mapping[str, float],
        max_comment_chars: int,
        retention_days: float,
        metrics: ExperimentMetrics | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._ledger = ledger
        self._labels = dict(label_scores)
        self._max_comment = max_comment_chars
        self._retention_days = retention_days
        self._metrics = metrics
        self._clock = clock

    def _check(self, request_id: str, score: float | None, label: str, comment: str) -> None:
        problems = []
        if not request_id:
            problems.append(FieldViolation("request_id", "required: the request_id of the answer (GenerateResponse)"))
        elif len(request_id) > MAX_KEY_CHARS:
            problems.append(FieldViolation("request_id", f"at most {MAX_KEY_CHARS} characters"))
        if score is None and not label:
            problems.append(FieldViolation("score", "give a score between 0 and 1, or a label"))
        if score is not None and not (math.isfinite(score) and 0.0 <= score <= 1.0):
            problems.append(FieldViolation("score", "must be between 0 and 1"))
        if label and label not in self._labels:
            allowed = ", ".join(sorted(self._labels)) or "none are configured"
            problems.append(FieldViolation("label", f"unknown label {label[:64]!r} (one of {allowed})"))
        if len(comment) > self._max_comment:
            problems.append(FieldViolation("comment", f"at most {self._max_comment} characters"))
        if problems:
            raise invalid_fields(f"the feedback is invalid: {problems[0].field}: {problems[0].description}", problems)

    async def record(
        self, caller: Caller, request_id: str, score: float | None = None, label: str = "", comment: str = ""
    ) -> FeedbackReceipt:
        self._check(request_id, score, label, comment)
        request = await self._ledger.lookup(caller.service, clean(request_id))
        if request is None:
            raise NotFoundError(
                f"service {caller.service!r} has no recorded request {request_id[:MAX_KEY_CHARS]!r} (feedback is "
                f"accepted for the caller's own requests, up to {self._retention_days:g} days after them)",
                reason=Reason.REQUEST_NOT_FOUND,
                metadata={"service": caller.service, "request_id": clean(request_id)},
            )
        if score is None:
            score = self._labels[label]
        await self._ledger.store.put_feedback(
            FeedbackRecord(caller.service, request.request_id, score, label, comment, self._clock())
        )
        if self._metrics is not None:
            kind = "label" if label else "score"
            self._metrics.feedback_recorded(request.task_type, request.template_version, kind, score)
        return FeedbackReceipt(request, score, label)

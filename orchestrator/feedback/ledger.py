"""The request ledger: what each generation was (service, task, template version, model, checks, cost), written
when it completes so that feedback arriving later can join it.

Writing never slows a request: the observer only queues the record (at most `queue_limit`; beyond it records
are dropped and counted), and one background task writes what is queued in batches (at most one per 20 ms).
Feedback looking up a request still in this process's queue flushes the queue first, so a caller's feedback
right after its answer finds it. Rows older than the retention, and all but the newest `keep`, are pruned at
start and then every `prune_seconds`, so the ledger stays bounded in size and age.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from orchestrator.domain import total_usage
from orchestrator.errors import Reason
from orchestrator.feedback.records import FeedbackStore, RequestRecord, clean
from orchestrator.observe import GenerationOutcome

log = logging.getLogger(__name__)

PRUNE_SECONDS = 300.0
# The writer gathers records this long before writing them: one write (and one trip to the store's thread) per
# batch instead of per request. Feedback looking a request up in this process flushes at once.
BATCH_SECONDS = 0.02


def record_of(outcome: GenerationOutcome, now: float) -> RequestRecord | None:
    """The ledger's record of a generation that reached a model or the cache (None for one refused before)."""
    result, request = outcome.result, outcome.request
    if result is None and not outcome.attempts:
        return None
    usage, cost = total_usage(outcome.attempts)
    model = result.model if result is not None else (outcome.failed_model or outcome.attempts[-1].model)
    return RequestRecord(
        service=request.caller.service,
        request_id=clean(request.request_id),
        task_type=clean(request.task_type),
        template_id=clean(request.template_id),
        template_version=clean(outcome.template_version),
        model=model,
        outcome="success" if result is not None else (outcome.error_reason or Reason.INTERNAL),
        rejected_answers=len(outcome.rejections),
        reasks=outcome.reasks,
        latency_ms=round(outcome.latency_seconds * 1000, 3),
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cost_usd=cost,
        cache_hit=bool(result is not None and result.cache_hit),
        created_at=now,
    )


class RequestLedger:
    def __init__(
        self,
        store: FeedbackStore,
        retention_seconds: float,
        keep: int,
        on_dropped: Callable[[int], None] = lambda n: None,
        queue_limit: int = 10_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self._retention = retention_seconds
        self._keep = keep
        self._on_dropped = on_dropped
        self._limit = queue_limit
        self._clock = clock
        self._queued: dict[tuple[str, str], RequestRecord] = {}
        self._wakeup = asyncio.Event()
        self._writing = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._pruned_at = 0.0

    def generation_finished(self, outcome: GenerationOutcome) -> None:
        record = record_of(outcome, self._clock())
        if record is None:
            return
        key = (record.service, record.request_id)
        if len(self._queued) >= self._limit and key not in self._queued:
            self._on_dropped(1)
            return
        self._queued.pop(key, None)  # the same id again: the newer record is the one kept
        self._queued[key] = record
        self._wakeup.set()

    async def start(self) -> None:
        await self._prune()
        self._task = asyncio.create_task(self._run(), name="request-ledger")

    async def _run(self) -> None:
        while not self._closing:
            await self._wakeup.wait()
            if not self._closing:
                await asyncio.sleep(BATCH_SECONDS)
            self._wakeup.clear()
            await self.flush()
            if self._clock() - self._pruned_at >= PRUNE_SECONDS:
                await self._prune()

    async def flush(self) -> None:
        """Write everything queued so far (returns once it is in the store, or dropped if the store failed)."""
        async with self._writing:
            batch, self._queued = list(self._queued.values()), {}
            if not batch:
                return
            try:
                await self.store.add_requests(batch)
            except Exception as exc:  # the store being down must not stop the ledger (or any request)
                log.warning("request ledger: %d records not written: %s", len(batch), exc)
                self._on_dropped(len(batch))

    async def _prune(self) -> None:
        self._pruned_at = now = self._clock()
        try:
            await self.store.prune(now - self._retention, self._keep)
        except Exception as exc:
            log.warning("request ledger: pruning failed: %s", exc)

    async def lookup(self, service: str, request_id: str) -> RequestRecord | None:
        """The request as recorded (flushing it first if it is still queued here), or None."""
        if (service, request_id) in self._queued:
            await self.flush()
        return await self.store.get_request(service, request_id)

    async def aclose(self) -> None:
        """Stop the writer once it has written what is queued (the server drains requests before this)."""
        self._closing = True
        self._wakeup.set()
        if self._task is not None:
            await self._task
        await self.flush()

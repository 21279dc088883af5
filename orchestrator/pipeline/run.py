"""Generate and StreamGenerate: admit, prepare, look in the cache, route (the router checks every answer), answer.

Streams send deltas as they come; their final event carries the shaped answer (code, or JSON validated
against the schema). A streamed answer that fails its check cannot be re-asked (its text has been sent)
and ends with INVALID_MODEL_OUTPUT.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from orchestrator.domain import GenerationRequest, GenerationResult, StreamStarted, TextDelta, total_usage
from orchestrator.observe import NullObserver, Observer
from orchestrator.pipeline.admission import Admission
from orchestrator.pipeline.caching import ResponseCache
from orchestrator.pipeline.observing import outcome_of
from orchestrator.pipeline.prepare import PreparedRequest, Preparer
from orchestrator.pipeline.shaping import ShapedAnswer
from orchestrator.routing.call import RouteFinished, RouteStarted
from orchestrator.routing.router import Router


@dataclass(slots=True)
class _Progress:
    """What one request has reached so far, for its observers whatever the ending."""

    prepared: PreparedRequest | None = None
    ttft: float | None = None
    result: GenerationResult | None = None

    @property
    def attempts(self) -> list | None:
        return self.prepared.call.attempts if self.prepared is not None else None

    @property
    def template_version(self) -> str:
        return self.prepared.template_version if self.prepared is not None else ""


class Pipeline:
    def __init__(
        self,
        preparer: Preparer,
        router: Router,
        admission: Admission,
        cache: ResponseCache,
        observer: Observer | None = None,
    ) -> None:
        self._preparer = preparer
        self._router = router
        self._admission = admission
        self._cache = cache
        self._observer: Observer = observer or NullObserver()

    async def generate(self, request: GenerationRequest) -> GenerationResult:
        started = time.monotonic()
        progress = _Progress()
        try:
            with self._admission.admit():
                progress.prepared = prepared = await self._preparer.prepare(request, started)
                async with contextlib.aclosing(self._cache.serve(prepared, lambda: self._complete(prepared))) as events:
                    async for event in events:
                        if isinstance(event, GenerationResult):
                            progress.result = event
                assert progress.result is not None, "every answer ends with its result"
                await self._complete_turn(prepared, progress.result)
        except BaseException as exc:
            outcome = outcome_of(
                request, started, False, error=exc, attempts=progress.attempts,
                template_version=progress.template_version,
            )  # fmt: skip
            self._observer.generation_finished(outcome)
            raise
        finally:
            await self._release_turn(progress.prepared)
        result = progress.result
        self._observer.generation_finished(outcome_of(request, started, False, result))
        return result

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamStarted | TextDelta | GenerationResult]:
        """StreamStarted, then TextDelta pieces, then the GenerationResult (its text is the whole answer)."""
        started = time.monotonic()
        progress = _Progress()
        try:
            with self._admission.admit():
                async for event in self._stream_events(request, started, progress):
                    yield event
                if progress.prepared is not None and progress.result is not None:
                    await self._complete_turn(progress.prepared, progress.result)
        except BaseException as exc:
            outcome = outcome_of(
                request, started, True, error=exc, ttft=progress.ttft, attempts=progress.attempts,
                template_version=progress.template_version,
            )  # fmt: skip
            self._observer.generation_finished(outcome)
            raise
        finally:
            await self._release_turn(progress.prepared)
        self._observer.generation_finished(outcome_of(request, started, True, progress.result, ttft=progress.ttft))
        if progress.result is not None:
            yield progress.result

    async def _complete_turn(self, prepared: PreparedRequest, result: GenerationResult) -> None:
        """Only a complete answer joins the conversation."""
        keeper = self._preparer.conversations
        if prepared.conversation is not None and keeper is not None:
            await keeper.complete(prepared.conversation, prepared.asked, result)

    async def _release_turn(self, prepared: PreparedRequest | None) -> None:
        keeper = self._preparer.conversations
        if prepared is not None and prepared.conversation is not None and keeper is not None:
            # Shielded: a cancelled request still gives the conversation back at once.
            await asyncio.shield(keeper.release(prepared.conversation))

    async def _stream_events(
        self, request: GenerationRequest, started: float, progress: _Progress
    ) -> AsyncIterator[StreamStarted | TextDelta]:
        progress.prepared = prepared = await self._preparer.prepare(request, started)
        begun = False
        async with contextlib.aclosing(self._cache.serve(prepared, lambda: self._route_stream(prepared))) as events:
            async for event in events:
                if isinstance(event, GenerationResult):
                    progress.result = event
                    if not begun:  # answered whole (the cache, or a unary request's call): one delta with the text
                        progress.ttft = time.monotonic() - started
                        yield StreamStarted(request.request_id, event.model, event.provider)
                        yield TextDelta(event.text)
                elif isinstance(event, StreamStarted):
                    begun = True
                    yield event
                else:
                    if progress.ttft is None:
                        progress.ttft = time.monotonic() - started
                    yield event

    async def _complete(self, prepared: PreparedRequest) -> AsyncIterator[GenerationResult]:
        finished = await self._router.complete(prepared.plan, prepared.call)
        yield _result(prepared, finished, finished.accepted)

    async def _route_stream(
        self, prepared: PreparedRequest
    ) -> AsyncIterator[StreamStarted | TextDelta | GenerationResult]:
        events = self._router.stream(prepared.plan, prepared.call)
        try:
            async for event in events:
                if isinstance(event, TextDelta):
                    yield event
                elif isinstance(event, RouteStarted):
                    yield StreamStarted(prepared.request.request_id, event.model.name, event.model.provider)
                else:
                    yield _result(prepared, event, event.accepted)
        finally:
            await events.aclose()


def _result(prepared: PreparedRequest, finished: RouteFinished, shaped: ShapedAnswer) -> GenerationResult:
    usage, cost = total_usage(finished.attempts)
    return GenerationResult(
        request_id=prepared.request.request_id,
        text=shaped.text,
        model=finished.model.name,
        provider=finished.model.provider,
        usage=usage,
        cost_usd=cost,
        finish_reason=finished.completion.finish_reason,
        attempts=list(finished.attempts),
        latency_ms=(time.monotonic() - prepared.started) * 1000,
        structured=shaped.structured,
        has_structured=shaped.has_structured,
        code=shaped.code,
        template_id=prepared.request.template_id,
        template_version=prepared.template_version,
        context_used=finished.prompt.context_used,
        context_dropped=finished.prompt.context_dropped,
    )

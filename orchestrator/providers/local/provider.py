"""Provider `local`: the GGUF run in-process by llama-cpp-python (SmolLM2-135M-Instruct by default).

Concurrent requests share decode steps (orchestrator.providers.local.scheduler); this module is the
event-loop side: the prompt is formatted and tokenized here (exact prompt token counts), a requested JSON
schema becomes a grammar here (INVALID_ARGUMENT at once if it cannot), then the request joins the bounded
queue (RESOURCE_EXHAUSTED with RetryInfo when full) and its tokens stream back. Time spent queued is not
counted against the router's stream idle timeout. Output tokens are the tokens llama.cpp sampled.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator

from orchestrator.config import ProviderSettings
from orchestrator.domain import ChatMessage, TextDelta, TokenCount, TokenUsage
from orchestrator.errors import QuotaViolation, Reason, ResourceExhaustedError
from orchestrator.providers import idle
from orchestrator.providers.base import (
    Completion,
    ProviderError,
    ProviderErrorKind,
    ProviderRequest,
    StreamEvent,
)
from orchestrator.providers.local.grammar import GrammarCache
from orchestrator.providers.local.model import LoadedModel
from orchestrator.providers.local.sampling import grammar_parses
from orchestrator.providers.local.scheduler import Admitted, Finished, Item, Job, Scheduler

log = logging.getLogger(__name__)


class LocalProvider:
    """Provider `local`: serves the configured GGUF model in-process."""

    def __init__(self, name: str, settings: ProviderSettings) -> None:
        self.name = name
        self._settings = settings
        self._model: LoadedModel | None = None
        self._scheduler: Scheduler | None = None
        self._grammars: GrammarCache | None = None

    async def start(self) -> None:
        model = self._model = await asyncio.to_thread(LoadedModel, self._settings)
        self._grammars = GrammarCache(lambda grammar: grammar_parses(model.vocab, grammar))
        self._scheduler = Scheduler(model, self._settings, self.name)
        log.info(
            "embedded model loaded",
            extra={"model_path": model.path, "n_ctx": self._settings.n_ctx, "max_batch": self._settings.max_batch},
        )

    async def aclose(self) -> None:
        if self._scheduler is not None:
            await asyncio.to_thread(self._scheduler.close)
            self._scheduler = None
        if self._model is not None:
            self._model.close()
            self._model = None

    def scheduler_stats(self) -> tuple[int, int, int]:
        """(requests queued for a sequence slot, sequences running, prompt tokens reused so far), for metrics."""
        scheduler = self._scheduler
        if scheduler is None:
            return 0, 0, 0
        return scheduler.queued, scheduler.running, scheduler.reused_tokens

    @property
    def scheduler(self) -> Scheduler:
        assert self._scheduler is not None, "provider not started"
        return self._scheduler

    def serving(self) -> bool:
        """False while work is pending and the scheduler has made no progress for `stall_seconds`."""
        return self._scheduler is not None and not self._scheduler.stalled()

    async def count_tokens(self, model: str, messages: tuple[ChatMessage, ...], exact: bool = False) -> TokenCount:
        # Tokenizing reads the vocabulary only (no context state): it need not wait for the scheduler.
        assert self._model is not None, "provider not started"
        return TokenCount(len(self._model.prompt(messages).tokens))

    async def generate(self, request: ProviderRequest) -> Completion:
        parts: list[str] = []
        async for event in self.stream(request):
            if isinstance(event, TextDelta):
                parts.append(event.text)
            else:
                return Completion("".join(parts), event.finish_reason, event.usage, event.response_model)
        raise ProviderError(ProviderErrorKind.MALFORMED_RESPONSE, "embedded model ended without a result")

    async def stream(self, request: ProviderRequest) -> AsyncIterator[StreamEvent]:
        model, scheduler, grammars = self._model, self._scheduler, self._grammars
        assert model is not None and scheduler is not None and grammars is not None, "provider not started"
        prompt = model.prompt(request.messages)
        n_ctx = self._settings.n_ctx
        if len(prompt.tokens) >= n_ctx:
            raise ProviderError(
                ProviderErrorKind.CONTEXT_LENGTH_EXCEEDED,
                f"prompt has {len(prompt.tokens)} tokens; the embedded model's context holds {n_ctx}",
            )
        grammar = await grammars.grammar(request.json_schema) if request.json_schema is not None else None
        room = n_ctx - len(prompt.tokens)
        params = request.params
        pending: deque[Item] = deque()
        wake = asyncio.Event()

        def deliver(items: list[Item]) -> None:  # on the event loop, once per decode step
            pending.extend(items)
            wake.set()

        job = Job(
            prompt=prompt.tokens,
            max_tokens=min(params.max_output_tokens or room, room),
            params=params,
            grammar=grammar,
            stops=(*prompt.stops, *params.stop),
            deliver=deliver,
            loop=asyncio.get_running_loop(),
        )
        if not scheduler.submit(job):
            raise self._queue_full(scheduler)
        pause = idle.paused()  # queued: the router's idle timer waits for the scheduler, not for us
        try:
            while True:
                await wake.wait()
                wake.clear()
                # Tokens that arrived while the caller was busy go out together as one delta, so a slow
                # reader never makes the model wait and each token costs the event loop less.
                texts: list[str] = []
                finished: Finished | None = None
                while pending:
                    item = pending.popleft()
                    if isinstance(item, str):
                        texts.append(item)
                    elif isinstance(item, Admitted):
                        pause.resume()
                    elif isinstance(item, Finished):
                        finished = item
                    else:
                        raise item
                if texts:
                    yield TextDelta("".join(texts))
                if finished is not None:
                    usage = TokenUsage(input_tokens=len(prompt.tokens), output_tokens=finished.output_tokens)
                    yield Completion("", finished.reason, usage, request.model)
                    return
        finally:
            pause.resume()
            # The caller stopped reading (cancelled, deadline, closed early): the sequence is freed at the
            # next step, or leaves the queue now.
            scheduler.cancel(job)

    def _queue_full(self, scheduler: Scheduler) -> ResourceExhaustedError:
        limit = self._settings.max_queue
        return ResourceExhaustedError(
            f"the embedded model {self.name} has {limit} requests waiting; retry shortly",
            reason=Reason.OVERLOADED,
            retry_after=scheduler.retry_after(),
            quota_violations=[QuotaViolation(f"providers.{self.name}.max_queue", f"at most {limit} waiting")],
            metadata={"provider": self.name},
        )

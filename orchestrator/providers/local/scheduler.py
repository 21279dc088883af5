"""The one thread that owns the llama.cpp context: continuous batching over several sequences.

Every step runs one llama_decode over the last sampled token of each decoding sequence (one row of logits
each), then up to `prefill_chunk` prompt tokens of the sequences still reading their prompts, round-robin
(one sequence per llama_decode), so a long prompt is fed in pieces while the others keep decoding. Each
sequence samples from its own row with its own sampler chain (grammar, temperature, top_p).

Requests wait in a bounded queue and join at the next step when a sequence slot is free. A finished or
cancelled sequence leaves at the next step and its slot is reused. A slot keeps the KV cells of the last prompt
it answered in full (the generated tokens' cells are removed with llama_memory_seq_rm): a request goes to the
free slot whose kept prompt shares the longest prefix with its own, and only the rest is prefilled (llama.cpp
server's `cache_prompt`; prompts built from one template share their system prompt). Each row of logits is
computed from its own sequence's cells, so a reused prefix gives the same answer as a fresh prefill. Output
goes back to the event loop once per step (one call_soon_threadsafe for all its sequences).

`stalled()` is true when work is pending and no step has finished for `stall_seconds` (a wedged decode, a
dead thread): the provider then reports itself not serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import llama_cpp

from orchestrator.config import ProviderSettings
from orchestrator.domain import FinishReason, SamplingParams
from orchestrator.providers.base import ProviderError, ProviderErrorKind
from orchestrator.providers.local.model import LoadedModel
from orchestrator.providers.local.sampling import SamplerChain
from orchestrator.providers.local.text import TextStream

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Admitted:
    """The job left the queue: its prompt is being read."""


@dataclass(frozen=True, slots=True)
class Finished:
    reason: FinishReason
    output_tokens: int


ADMITTED = Admitted()
CLOSE_SECONDS = 30.0
Item = str | Admitted | Finished | ProviderError


@dataclass(eq=False, slots=True)
class Job:
    """One generation. The event loop sets `cancelled`; everything below it belongs to the scheduler thread."""

    prompt: list[int]
    max_tokens: int
    params: SamplingParams
    grammar: str | None
    stops: tuple[str, ...]
    deliver: Callable[[list[Item]], None]  # runs on `loop`
    loop: asyncio.AbstractEventLoop
    cancelled: bool = False
    seq: int = -1
    fed: int = 0  # prompt tokens in the KV cache
    last: int = -1  # the sampled token not yet fed back
    output_tokens: int = 0
    row: int = -1  # this step's logits row, or -1
    started: float = 0.0
    sampler: SamplerChain | None = None
    text: TextStream | None = None
    out: list[Item] = field(default_factory=list)


class Scheduler:
    def __init__(self, model: LoadedModel, settings: ProviderSettings, name: str) -> None:
        self._model = model
        self._max_batch = settings.max_batch
        self._max_queue = settings.max_queue
        self._chunk = settings.prefill_chunk
        self._stall_seconds = settings.stall_seconds
        self._n_batch = settings.prefill_chunk + settings.max_batch
        self._ctx = model.new_context(settings, self._n_batch)
        self._memory = llama_cpp.llama_get_memory(self._ctx)
        self._batch = llama_cpp.llama_batch_init(self._n_batch, 0, 1)
        self._free = list(range(settings.max_batch - 1, -1, -1))
        self._kept: list[list[int]] = [[] for _ in range(settings.max_batch)]  # slot -> prompt in its KV cells
        self.reused_tokens = 0  # prompt tokens not prefilled again
        self._waiting: deque[Job] = deque()
        self._active: list[Job] = []
        self._turn = 0  # round-robin start among prefilling sequences
        self._cv = threading.Condition()
        # Held for every llama.cpp call on the context (a decode that never returns holds it forever).
        self.context_lock = threading.Lock()
        self._closed = False
        self.progress_at = time.monotonic()
        self.steps = 0  # decode steps finished
        self.seconds_per_job: float | None = None  # moving average, for Retry-After estimates
        self._thread = threading.Thread(target=self._run, name=f"llama-{name}", daemon=True)
        self._thread.start()

    # ---- event-loop side -------------------------------------------------------------------------------

    def submit(self, job: Job) -> bool:
        """Queue a job; False when the queue is full (nothing was queued)."""
        with self._cv:
            if self._closed:
                raise ProviderError(ProviderErrorKind.UNAVAILABLE, "the embedded model is shutting down")
            idle = not self._active and not self._waiting
            if len(self._waiting) >= self._max_queue + len(self._free):  # every slot taken, the queue full
                return False
            if idle:
                self.progress_at = time.monotonic()  # idle time is not a stall
            self._waiting.append(job)
            self._cv.notify()
        return True

    def cancel(self, job: Job) -> None:
        """The caller went away: a queued job leaves now, a running one at the next step."""
        job.cancelled = True
        with self._cv, contextlib.suppress(ValueError):
            self._waiting.remove(job)

    @property
    def queued(self) -> int:
        """Requests waiting for a sequence slot."""
        return len(self._waiting)

    @property
    def running(self) -> int:
        """Sequences holding a slot (reading their prompt or decoding)."""
        return len(self._active)

    def retry_after(self) -> float:
        """About when a queued request would start: the queue's jobs, max_batch at a time."""
        per_job = self.seconds_per_job or 1.0
        return min(max(per_job * (len(self._waiting) + 1) / self._max_batch, 0.5), 60.0)

    def stalled(self) -> bool:
        if not self._thread.is_alive() and not self._closed:
            return True
        busy = bool(self._active or self._waiting)
        return busy and time.monotonic() - self.progress_at > self._stall_seconds

    def close(self) -> None:
        with self._cv:
            self._closed = True
            self._cv.notify()
        self._thread.join(CLOSE_SECONDS)
        if self._thread.is_alive():  # wedged in llama.cpp: leave the context to the process exit, never free it
            log.error("embedded model scheduler did not stop; its context is not freed")
            return
        left = [*self._waiting, *self._active]
        self._waiting.clear()
        for job in left:
            self._finish(job, ProviderError(ProviderErrorKind.UNAVAILABLE, "the embedded model shut down"))
        self._flush(left)
        llama_cpp.llama_batch_free(self._batch)
        llama_cpp.llama_free(self._ctx)

    # ---- scheduler thread ------------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._closed and not self._active and not self._waiting:
                    self._cv.wait()
                if self._closed:
                    return
                self._admit()
            try:
                with self.context_lock:
                    self._step()
            except Exception as exc:  # a failed step fails its sequences, never the thread
                log.exception("embedded model step failed")
                error = ProviderError(ProviderErrorKind.UNAVAILABLE, f"embedded model failed: {type(exc).__name__}")
                failed = list(self._active)
                for job in failed:
                    self._finish(job, error)
                self._flush(failed)
            self.steps += 1
            self.progress_at = time.monotonic()

    def _admit(self) -> None:
        while self._waiting and self._free:
            job = self._waiting.popleft()
            job.started = time.monotonic()
            try:
                job.sampler = SamplerChain(self._model.vocab, job.params, job.grammar)
            except RuntimeError as exc:  # llama.cpp refused the sampler: this request fails, not the thread
                job.out.append(ProviderError(ProviderErrorKind.UNAVAILABLE, f"embedded model: {exc}"))
                self._flush([job])
                continue
            self._take_slot(job)
            job.text = TextStream(job.stops)
            job.out.append(ADMITTED)
            self._active.append(job)

    def _take_slot(self, job: Job) -> None:
        """The free slot whose kept prompt shares the longest prefix with this one; its cells past it go."""
        best, shared = len(self._free) - 1, 0
        for index, seq in enumerate(self._free):
            kept = self._kept[seq]
            common = 0
            for a, b in zip(kept, job.prompt, strict=False):
                if a != b:
                    break
                common += 1
            if common > shared:
                best, shared = index, common
        job.seq = self._free.pop(best)
        shared = min(shared, len(job.prompt) - 1)  # the last prompt token is fed again: its logits are needed
        if not llama_cpp.llama_memory_seq_rm(self._memory, job.seq, shared, -1):
            llama_cpp.llama_memory_seq_rm(self._memory, job.seq, -1, -1)
            shared = 0
        self._kept[job.seq] = []
        job.fed = shared
        self.reused_tokens += shared

    def _step(self) -> None:
        touched = list(self._active)
        for job in [j for j in self._active if j.cancelled]:
            self._release(job)
        # One decode for every sequence's next token (one piece each: llama.cpp keeps it in one ubatch)...
        decoding = [j for j in self._active if j.fed == len(j.prompt)]
        n = 0
        for row, job in enumerate(decoding):
            job.row = row
            n = self._put(n, job.last, job.fed + job.output_tokens - 1, job.seq, True)
        self._decode(n, decoding)
        # ...then up to `prefill_chunk` prompt tokens, one sequence per decode (sequences with per-sequence KV
        # streams are split into equal pieces: mixed into the decode above, a prompt would run token by token).
        prefilling = [j for j in self._active if j.fed < len(j.prompt)]
        budget = self._chunk
        if prefilling:
            self._turn = (self._turn + 1) % len(prefilling)
            for job in prefilling[self._turn :] + prefilling[: self._turn]:
                take = min(budget, len(job.prompt) - job.fed)
                n = 0
                for i in range(job.fed, job.fed + take):
                    n = self._put(n, job.prompt[i], i, job.seq, False)
                job.fed += take
                budget -= take
                if job.fed == len(job.prompt):
                    self._batch.logits[n - 1] = 1
                    job.row = n - 1
                self._decode(n, [job])
                if budget == 0:
                    break
        self._flush(touched)

    def _decode(self, n: int, jobs: list[Job]) -> None:
        """Run the batch's first `n` tokens; then each job with a logits row samples its next token."""
        if not n:
            return
        self._batch.n_tokens = n
        code = llama_cpp.llama_decode(self._ctx, self._batch)
        if code != 0:
            raise RuntimeError(f"llama_decode returned {code}")
        for job in jobs:
            if job.row >= 0:
                self._sample(job)
                job.row = -1

    def _put(self, n: int, token: int, pos: int, seq: int, logits: bool) -> int:
        batch = self._batch
        batch.token[n] = token
        batch.pos[n] = pos
        batch.n_seq_id[n] = 1
        batch.seq_id[n][0] = seq
        batch.logits[n] = logits
        return n + 1

    def _sample(self, job: Job) -> None:
        assert job.sampler is not None and job.text is not None
        token = job.sampler.sample(self._ctx, job.row)
        if self._model.is_end(token):
            self._done(job, FinishReason.STOP, job.text.flush())
            return
        job.output_tokens += 1
        text, stopped = job.text.push(self._model.piece(token))
        if stopped:  # the stop string and anything after it are dropped
            self._done(job, FinishReason.STOP, text)
        elif job.output_tokens >= job.max_tokens:
            self._done(job, FinishReason.LENGTH, text + job.text.flush())
        else:
            if text:
                job.out.append(text)
            job.last = token

    def _done(self, job: Job, reason: FinishReason, text: str) -> None:
        if text:
            job.out.append(text)
        self._finish(job, Finished(reason, job.output_tokens), keep_prompt=True)
        took = time.monotonic() - job.started
        avg = self.seconds_per_job
        self.seconds_per_job = took if avg is None else 0.8 * avg + 0.2 * took

    def _finish(self, job: Job, last: Item, keep_prompt: bool = False) -> None:
        job.out.append(last)
        self._release(job, keep_prompt)

    def _release(self, job: Job, keep_prompt: bool = False) -> None:
        """The sequence leaves: its sampler and slot are freed, and its KV cells but the prompt's when kept."""
        if job in self._active:
            self._active.remove(job)
        if job.seq >= 0:
            kept = keep_prompt and job.fed == len(job.prompt)
            if not (kept and llama_cpp.llama_memory_seq_rm(self._memory, job.seq, len(job.prompt), -1)):
                llama_cpp.llama_memory_seq_rm(self._memory, job.seq, -1, -1)
                kept = False
            self._kept[job.seq] = list(job.prompt) if kept else []
            self._free.append(job.seq)
            job.seq = -1
        if job.sampler is not None:
            job.sampler.close()
            job.sampler = None

    def _flush(self, jobs: list[Job]) -> None:
        """Hand this step's output to the event loop in one callback."""
        ready: dict[asyncio.AbstractEventLoop, list[tuple[Job, list[Item]]]] = {}
        for job in jobs:
            if job.out and not job.cancelled:
                ready.setdefault(job.loop, []).append((job, job.out))
            job.out = []
        for loop, items in ready.items():
            with contextlib.suppress(RuntimeError):  # that event loop is closed: nobody is listening any more
                loop.call_soon_threadsafe(_deliver_all, items)


def _deliver_all(ready: list[tuple[Job, list[Item]]]) -> None:
    for job, items in ready:
        job.deliver(items)

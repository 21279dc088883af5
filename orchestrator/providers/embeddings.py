"""Embedders for the semantic cache: the local model (off the event loop, bounded) or a provider's endpoint.

An embedder never fails a request: when it cannot embed a text (too long for the model, endpoint down) it
answers None and the request goes on without the semantic cache.
"""

from __future__ import annotations

import asyncio
import logging
import math
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Protocol

from orchestrator.redaction import SECRETS

if TYPE_CHECKING:
    import numpy as np

    from orchestrator.providers.minilm import MiniLMEmbedder

log = logging.getLogger(__name__)
# Texts beyond this many characters are not sent to an embeddings endpoint (their models take ~8k tokens).
MAX_ENDPOINT_CHARS = 24_000


class Embedder(Protocol):
    name: str

    async def start(self) -> None: ...
    async def embed(self, text: str) -> np.ndarray | None: ...
    async def aclose(self) -> None: ...


class LocalEmbedder:
    """all-MiniLM-L6-v2 in this process, on at most `max_concurrent` worker threads at once."""

    name = "all-MiniLM-L6-v2"

    def __init__(self, max_concurrent: int = 2, model: MiniLMEmbedder | None = None) -> None:
        self._model = model
        self._threads = ThreadPoolExecutor(max_concurrent, thread_name_prefix="embed")
        # Waiting for a thread here (not in the pool's queue) lets a cancelled request leave the queue.
        self._slots = asyncio.Semaphore(max_concurrent)

    async def start(self) -> None:
        if self._model is None:
            from orchestrator.providers.minilm import MiniLMEmbedder

            self._model = await asyncio.get_running_loop().run_in_executor(self._threads, MiniLMEmbedder)

    async def embed(self, text: str) -> np.ndarray | None:
        model = self._model
        assert model is not None, "start() loads the model"
        async with self._slots:
            return await asyncio.get_running_loop().run_in_executor(self._threads, model.embed, text)

    async def aclose(self) -> None:
        self._threads.shutdown(wait=False, cancel_futures=True)


class EndpointEmbedder:
    """An OpenAI-compatible `/embeddings` endpoint (OpenAI itself, vLLM, Ollama, llama.cpp's server, ...)."""

    def __init__(self, base_url: str | None, api_key: str, model: str, timeout_seconds: float = 10.0) -> None:
        import openai

        self.name = model
        self._model = model
        self._client = openai.AsyncOpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=timeout_seconds)

    async def start(self) -> None:
        return None

    async def embed(self, text: str) -> np.ndarray | None:
        import numpy as np
        import openai

        if len(text) > MAX_ENDPOINT_CHARS:
            return None
        try:
            answer = await self._client.embeddings.create(model=self._model, input=text, encoding_format="float")
            vector = np.asarray(answer.data[0].embedding, dtype=np.float32)
        except (openai.OpenAIError, IndexError, ValueError) as exc:
            log.warning("embeddings endpoint failed; no semantic cache for this request", extra={
                "model": self._model, "error": SECRETS(f"{type(exc).__name__}: {exc}")})  # fmt: skip
            return None
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm > 0 and math.isfinite(norm) else None

    async def aclose(self) -> None:
        await self._client.close()

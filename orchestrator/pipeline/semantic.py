"""The semantic cache: a paraphrase of an answered request gets the cached answer.

A request splits in two. Its *scope* is everything that must match exactly for an answer to be exchangeable
(the exact cache key's material: service unless shared, task type, template id and resolved version, model
selection, output format and schema, params, context, system messages, and every variable that is not prose),
hashed. Its *prose* is what a caller may phrase differently: the string variables of more than one word and
the text of the user and assistant messages, in order. Only the prose is embedded, so a long template never
drowns the question, and an identifier (`language: go`) or a number in a variable of its own must match
exactly; so must its salient terms (numbers, names, identifiers, polar words: pipeline.salient), which
embeddings weigh too lightly. The nearest cached request in the same scope answers when its cosine similarity
reaches the task's threshold and the words both use come in the same order (salient.comparable). Prose longer
than the embedder's window is not looked up (a truncated text would match a text that differs after the cut);
nor are conversations (cache_rules.is_conversation).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from orchestrator.domain import GenerationRequest
from orchestrator.pipeline.salient import comparable, content_words, salient_terms
from orchestrator.providers.embeddings import Embedder
from orchestrator.state.vectors import VectorStore

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)
_PROSE = "\u2026"  # stands for a prose value in the scope: the value is compared by meaning, not by bytes


def is_prose(value: Any) -> bool:
    return isinstance(value, str) and len(value.split()) > 1


def split_request(material: dict[str, Any], request: GenerationRequest) -> tuple[dict[str, Any], str]:
    """(the scope's material, the prose) of a request, from its exact cache key material."""
    prose: list[str] = []
    variables = {}
    for name in sorted(request.variables):
        value = request.variables[name]
        if is_prose(value):
            prose.append(value)
            value = _PROSE
        variables[name] = value
    messages = []
    for message in request.messages:
        if message.role == "system":
            messages.append([message.role, message.content])
        else:
            prose.append(message.content)
            messages.append([message.role, _PROSE])
    text = "\n".join(prose)
    scope = {**material, "variables": variables, "messages": messages, "salient": salient_terms(text)}
    return scope, text


@dataclass(frozen=True, slots=True)
class SemanticMatch:
    key: str  # the exact cache key of the answered request
    similarity: float


@dataclass(slots=True)
class Probe:
    """A request's semantic lookup, kept so that storing its answer does not embed it again."""

    scope: str
    text: str
    vector: np.ndarray | None = None
    embedded: bool = False

    @property
    def words(self) -> tuple[str, ...]:
        return content_words(self.text)


class SemanticCache:
    def __init__(
        self,
        embedder: Embedder,
        store: VectorStore,
        on_lookup: Callable[[float], None] | None = None,
    ) -> None:
        self._embedder = embedder
        self._store = store
        self._on_lookup = on_lookup

    async def _vector(self, probe: Probe) -> np.ndarray | None:
        if not probe.embedded:
            probe.embedded = True
            try:
                probe.vector = await self._embedder.embed(probe.text)
            except Exception:  # the embedder's bug or its runtime's: a miss, never a failed request
                log.exception("embedding failed; no semantic cache for this request")
        return probe.vector

    async def nearest(self, probe: Probe, threshold: float) -> SemanticMatch | None:
        """The closest answered request in the probe's scope, when at least `threshold` similar."""
        started = time.monotonic()
        vector = await self._vector(probe)
        candidates = await self._store.nearest(probe.scope, vector) if vector is not None else []
        if self._on_lookup is not None:
            self._on_lookup(time.monotonic() - started)
        words = probe.words
        for key, similarity, stored in candidates:
            if similarity < threshold:
                break
            if comparable(words, tuple(stored.split())):
                return SemanticMatch(key, min(similarity, 1.0))
        return None

    async def remember(self, probe: Probe, key: str, ttl_seconds: float) -> None:
        vector = await self._vector(probe)
        if vector is not None:
            await self._store.add(probe.scope, key, vector, ttl_seconds, " ".join(probe.words))

    async def start(self) -> None:
        await self._embedder.start()

    async def aclose(self) -> None:
        await self._embedder.aclose()

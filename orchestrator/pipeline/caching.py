"""Response cache: a finished answer stored under a hash of everything that shaped it, and the three ways a
request is answered without its own upstream call.

Policy (cache_rules): the request's `cache.policy`, else its task's `tasks.<t>.cache.policy`, else
`cache.default_policy` (bypass unless configured: sampling makes answers vary, so callers opt in). USE reads
and writes, REFRESH only writes, BYPASS neither; conversations always bypass. Backends (orchestrator.state.cache):
`memory` (this replica) and `redis` (every replica). A request that does not bypass is answered, in order, by

1. an exact hit: the same key, stored (`cache_hit`);
2. a semantic hit, when its task turns the semantic cache on: the nearest paraphrase in the same scope
   (`cache_hit` and `cache_similarity`; see pipeline.semantic);
3. an identical request in flight (single-flight): its answer, start, deltas and final, as it comes;
4. the model, whose answer is stored before the waiting requests get it, so that no later request misses.

1 to 3 cost no tokens but count as a request against the caller's limits (RequestSpend.count_request), and
carry no usage or attempts. A broken Redis never fails a request: the shared state turns it into a miss.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict
from typing import Any

from orchestrator.domain import CachePolicy, FinishReason, GenerationRequest, GenerationResult, StreamStarted
from orchestrator.pipeline.answers import decode_result, encode_result, served_copy, started_for
from orchestrator.pipeline.cache_rules import CacheRules, TaskCache
from orchestrator.pipeline.flight_events import Event
from orchestrator.pipeline.prepare import PreparedRequest
from orchestrator.pipeline.semantic import Probe, SemanticCache, split_request
from orchestrator.pipeline.singleflight import SingleFlight
from orchestrator.state.cache import CacheBackend


def key_material(request: GenerationRequest, template_version: str, shared: bool = False) -> dict[str, Any]:
    """Everything that shapes the answer, and whose answer it is (unless the task's cache is shared across
    services); not the request id, metadata or deadline."""
    return {
        "service": "" if shared else request.caller.service,
        "task": request.task_type,
        "template": [request.template_id, template_version],
        "variables": request.variables,
        "messages": [[m.role, m.content] for m in request.messages],
        "context": [[c.content, c.source, c.relevance_score, str(c.timestamp), c.token_count] for c in request.context],
        "strategy": request.context_strategy,
        "format": request.output_format.value,
        "schema": request.json_schema,
        "selection": asdict(request.selection),
        "params": asdict(request.params),
        # Knowledge-base retrieval adds context the request does not carry: other options, another answer.
        "retrieval": asdict(request.retrieval) if request.retrieval is not None else None,
    }


def digest(material: dict[str, Any]) -> str:
    encoded = json.dumps(material, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.sha256(encoded).hexdigest()


def cache_key(request: GenerationRequest, template_version: str, shared: bool = False) -> str:
    return digest(key_material(request, template_version, shared))


async def count_request(prepared: PreparedRequest) -> None:
    """An answer served without a model call costs no tokens but counts against the caller's request limits."""
    if prepared.call.spend is not None:
        await prepared.call.spend.count_request()


class ResponseCache:
    """Applies the request's policy around a backend; never lets the backend fail a request."""

    def __init__(
        self,
        backend: CacheBackend | None,
        rules: CacheRules | None = None,
        flights: SingleFlight | None = None,
        semantic: SemanticCache | None = None,
    ) -> None:
        self._backend = backend
        self._rules = rules or CacheRules()
        self._flights = flights
        self._semantic = semantic

    async def serve(
        self, prepared: PreparedRequest, produce: Callable[[], AsyncIterator[Event]]
    ) -> AsyncIterator[Event]:
        """The answer's events (a stream's start and deltas, then the GenerationResult): from the cache, from an
        identical request in flight, or from `produce` (the model), stored on the way."""
        request = prepared.request
        policy = self._rules.policy(request)
        if self._backend is None or policy is CachePolicy.BYPASS:
            async with contextlib.aclosing(produce()) as events:
                async for event in events:
                    yield event
            return
        rule = self._rules.for_task(request.task_type)
        material = key_material(request, prepared.template_version, rule.shared)
        key = digest(material)
        probe = None
        if rule.semantic_threshold is not None and self._semantic is not None:
            scope, prose = split_request(material, request)
            probe = Probe(digest(scope), prose) if prose else None
        flights = self._flights
        if policy is CachePolicy.USE and not (flights is not None and flights.in_flight(key)):
            hit = await self._lookup(prepared, key, probe, rule)
            if hit is not None:
                await count_request(prepared)
                yield hit
                return

        def lead() -> AsyncIterator[Event]:
            return self._produce_and_store(produce, key, probe, rule)

        if flights is None:
            async with contextlib.aclosing(lead()) as events:
                async for event in events:
                    yield event
            return
        counted = False
        async with contextlib.aclosing(flights.run(key, lead, prepared.call.deadline)) as flight:
            async for event, joined in flight:
                if joined:
                    if not counted:
                        await count_request(prepared)
                        counted = True
                    event = _joined(event, prepared)
                yield event

    async def _lookup(
        self, prepared: PreparedRequest, key: str, probe: Probe | None, rule: TaskCache
    ) -> GenerationResult | None:
        assert self._backend is not None
        request_id, started = prepared.request.request_id, prepared.started
        raw = await self._backend.get(key)
        if raw is not None and (hit := decode_result(raw, request_id, 0.0)) is not None:
            return served_copy(hit, request_id, started)
        if probe is None or self._semantic is None or rule.semantic_threshold is None:
            return None
        match = await self._semantic.nearest(probe, rule.semantic_threshold)
        if match is None or match.key == key:
            return None
        raw = await self._backend.get(match.key)
        hit = decode_result(raw, request_id, 0.0) if raw is not None else None
        return served_copy(hit, request_id, started, similarity=match.similarity) if hit is not None else None

    async def _produce_and_store(
        self, produce: Callable[[], AsyncIterator[Event]], key: str, probe: Probe | None, rule: TaskCache
    ) -> AsyncIterator[Event]:
        async with contextlib.aclosing(produce()) as events:
            async for event in events:
                if isinstance(event, GenerationResult):
                    # Stored before anyone waiting is answered: a request arriving after them finds it.
                    await self._store(key, probe, rule, event)
                yield event

    async def _store(self, key: str, probe: Probe | None, rule: TaskCache, result: GenerationResult) -> None:
        if self._backend is None or result.finish_reason not in (FinishReason.STOP, FinishReason.LENGTH):
            return
        await self._backend.set(key, encode_result(result), rule.ttl_seconds)
        if probe is not None and self._semantic is not None:
            await self._semantic.remember(probe, key, rule.ttl_seconds)

    async def start(self) -> None:
        if self._semantic is not None:
            await self._semantic.start()

    async def aclose(self) -> None:
        if self._flights is not None:
            await self._flights.aclose()
        if self._semantic is not None:
            await self._semantic.aclose()
        if self._backend is not None:
            await self._backend.aclose()


def _joined(event: Event, prepared: PreparedRequest) -> Event:
    """Another request's event, as this request's own: its id, and the answer as one it did not pay for."""
    request_id = prepared.request.request_id
    if isinstance(event, GenerationResult):
        return served_copy(event, request_id, prepared.started, joined=True)
    if isinstance(event, StreamStarted):
        return started_for(event, request_id)
    return event

"""Context from the knowledge base: the chunks that best match the request join its context with their scores."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass

from orchestrator.domain import ContextItem, GenerationRequest
from orchestrator.errors import NotFoundError, Reason
from orchestrator.knowledge.model import Hit, KnowledgeStore, query_terms

DEFAULT_TOP_K = 5


@dataclass(frozen=True, slots=True)
class TaskRetrieval:
    collections: tuple[str, ...] = ()
    top_k: int = DEFAULT_TOP_K


class Retriever:
    def __init__(self, store: KnowledgeStore, tasks: Mapping[str, TaskRetrieval]) -> None:
        self.store = store
        self._tasks = dict(tasks)

    async def items(self, request: GenerationRequest, default_query: str) -> list[ContextItem]:
        """Chunks for the request's retrieval (else the task's), best first; [] when neither asks for any."""
        task = self._tasks.get(request.task_type, TaskRetrieval())
        options = request.retrieval
        collections = (options.collections if options else ()) or task.collections
        if not collections:
            return []
        top_k = (options.top_k if options else None) or task.top_k
        terms = query_terms((options.query if options else "") or default_query)
        for collection in collections:
            if await self.store.owner(collection) is None:
                raise NotFoundError(
                    f"knowledge collection {collection!r} does not exist",
                    reason=Reason.COLLECTION_NOT_FOUND,
                    metadata={"collection": collection},
                )
        found = await asyncio.gather(*(self.store.search(c, terms, top_k) for c in collections))
        hits = sorted((hit for hits in found for hit in hits), key=lambda h: -h.score)[:top_k]
        return [_item(hit) for hit in hits]


def _item(hit: Hit) -> ContextItem:
    source = f"{hit.source or hit.document_id}#{hit.chunk_index}"
    return ContextItem(hit.content, source, hit.score, hit.timestamp)

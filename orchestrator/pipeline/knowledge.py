"""The knowledge RPCs as domain operations: every service may search any collection; only the service that
created a collection (or an admin) may add to it or delete from it."""

from __future__ import annotations

from orchestrator.domain import Caller
from orchestrator.errors import FieldViolation, NotFoundError, PermissionDeniedError, Reason, invalid_fields
from orchestrator.knowledge.chunking import chunk
from orchestrator.knowledge.model import Document, Hit, KnowledgeStore, check_collection, query_terms

MAX_DOCUMENTS = 1000
MAX_TOP_K = 50
DEFAULT_TOP_K = 5


class KnowledgeOperations:
    def __init__(self, store: KnowledgeStore, chunk_chars: int, overlap_chars: int, max_document_chars: int) -> None:
        self._store = store
        self._chunk_chars = chunk_chars
        self._overlap = overlap_chars
        self._max_chars = max_document_chars

    async def _owner(self, collection: str) -> str:
        owner = await self._store.owner(collection)
        if owner is None:
            raise NotFoundError(
                f"knowledge collection {collection!r} does not exist",
                reason=Reason.COLLECTION_NOT_FOUND,
                metadata={"collection": collection},
            )
        return owner

    @staticmethod
    def _check_write(caller: Caller, collection: str, owner: str) -> None:
        if owner != caller.service and not caller.admin:
            raise PermissionDeniedError(
                f"collection {collection!r} belongs to service {owner!r}; only it or an admin may change it",
                reason=Reason.COLLECTION_NOT_OWNED,
                metadata={"collection": collection, "owner": owner, "service": caller.service},
            )

    async def upsert(self, caller: Caller, collection: str, documents: list[Document]) -> tuple[int, int]:
        check_collection(collection)
        self._check_documents(documents)
        owner = await self._store.owner(collection)
        if owner is not None:
            self._check_write(caller, collection, owner)
        chunked = [(d, chunk(d.content, self._chunk_chars, self._overlap)) for d in documents]
        chunks = await self._store.upsert(caller.service, collection, chunked)
        return len(documents), chunks

    def _check_documents(self, documents: list[Document]) -> None:
        problems = []
        if not documents:
            problems.append(FieldViolation("documents", "give at least one document"))
        if len(documents) > MAX_DOCUMENTS:
            problems.append(FieldViolation("documents", f"at most {MAX_DOCUMENTS} a call"))
        seen: set[str] = set()
        for i, document in enumerate(documents):
            if not 0 < len(document.id) <= 128:
                problems.append(FieldViolation(f"documents[{i}].id", "1-128 characters"))
            elif document.id in seen:
                problems.append(FieldViolation(f"documents[{i}].id", "listed twice"))
            seen.add(document.id)
            if not document.content.strip():
                problems.append(FieldViolation(f"documents[{i}].content", "must not be empty"))
            if len(document.content) > self._max_chars:
                problems.append(FieldViolation(f"documents[{i}].content", f"at most {self._max_chars} characters"))
        if problems:
            raise invalid_fields(f"the documents are invalid: {problems[0].description}", problems)

    async def delete(self, caller: Caller, collection: str, ids: list[str]) -> int:
        check_collection(collection)
        self._check_write(caller, collection, await self._owner(collection))
        return await self._store.delete(collection, ids)

    async def search(self, collection: str, query: str, top_k: int) -> list[Hit]:
        check_collection(collection)
        if top_k > MAX_TOP_K:
            raise invalid_fields("top_k is too large", [FieldViolation("top_k", f"at most {MAX_TOP_K}")])
        await self._owner(collection)
        return await self._store.search(collection, query_terms(query), top_k or DEFAULT_TOP_K)

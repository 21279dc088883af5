"""KnowledgeService: convert, call the knowledge operations, convert back."""

from __future__ import annotations

from datetime import UTC

import grpc
from google.protobuf import timestamp_pb2
from orchestrator_client.v1 import knowledge_pb2 as pb
from orchestrator_client.v1 import knowledge_pb2_grpc

from orchestrator.api.status import unary
from orchestrator.domain import Caller
from orchestrator.knowledge.model import Document
from orchestrator.pipeline.knowledge import KnowledgeOperations


def _document(proto: pb.Document) -> Document:
    stamp = proto.timestamp.ToDatetime(tzinfo=UTC) if proto.HasField("timestamp") else None
    return Document(proto.id, proto.content, proto.source, dict(proto.metadata), stamp)


class KnowledgeServicer(knowledge_pb2_grpc.KnowledgeServiceServicer):
    def __init__(self, knowledge: KnowledgeOperations) -> None:
        self._knowledge = knowledge

    @unary
    async def UpsertDocuments(
        self, request: pb.UpsertDocumentsRequest, context: grpc.aio.ServicerContext, caller: Caller
    ) -> pb.UpsertDocumentsResponse:
        documents, chunks = await self._knowledge.upsert(
            caller, request.collection, [_document(d) for d in request.documents]
        )
        return pb.UpsertDocumentsResponse(documents=documents, chunks=chunks)

    @unary
    async def DeleteDocuments(
        self, request: pb.DeleteDocumentsRequest, context: grpc.aio.ServicerContext, caller: Caller
    ) -> pb.DeleteDocumentsResponse:
        deleted = await self._knowledge.delete(caller, request.collection, list(request.ids))
        return pb.DeleteDocumentsResponse(deleted=deleted)

    @unary
    async def Search(
        self, request: pb.SearchRequest, context: grpc.aio.ServicerContext, caller: Caller
    ) -> pb.SearchResponse:
        hits = await self._knowledge.search(request.collection, request.query, request.top_k)
        response = pb.SearchResponse()
        for hit in hits:
            chunk = pb.Chunk(
                document_id=hit.document_id,
                chunk_index=hit.chunk_index,
                content=hit.content,
                source=hit.source,
                metadata=hit.metadata,
                score=hit.score,
            )
            if hit.timestamp is not None:
                stamp = timestamp_pb2.Timestamp()
                stamp.FromDatetime(hit.timestamp)
                chunk.timestamp.CopyFrom(stamp)
            response.chunks.append(chunk)
        return response

"""ConversationService: convert, call the conversation operations, convert back."""

from __future__ import annotations

from datetime import datetime

import grpc
from google.protobuf import timestamp_pb2
from orchestrator_client.v1 import conversations_pb2 as pb
from orchestrator_client.v1 import conversations_pb2_grpc

from orchestrator.api import convert
from orchestrator.api.status import unary
from orchestrator.conversations.model import ConversationInfo
from orchestrator.domain import Caller
from orchestrator.pipeline.conversations import ConversationOperations


def _time(value: datetime | None) -> timestamp_pb2.Timestamp | None:
    if value is None:
        return None
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(value)
    return stamp


def _info(info: ConversationInfo) -> pb.ConversationInfo:
    return pb.ConversationInfo(
        conversation_id=info.conversation_id,
        turn_count=info.turn_count,
        create_time=_time(info.create_time),
        update_time=_time(info.update_time),
        expire_time=_time(info.expire_time),
    )


class ConversationServicer(conversations_pb2_grpc.ConversationServiceServicer):
    def __init__(self, conversations: ConversationOperations) -> None:
        self._conversations = conversations

    @unary
    async def GetConversation(
        self, request: pb.GetConversationRequest, context: grpc.aio.ServicerContext, caller: Caller
    ) -> pb.GetConversationResponse:
        info, turns = await self._conversations.get(caller, request.conversation_id)
        return pb.GetConversationResponse(
            conversation=_info(info),
            turns=[
                pb.Turn(
                    role=convert.ROLE_TO_PROTO[t.role],  # type: ignore[index]
                    content=t.content,
                    request_id=t.request_id,
                    model=t.model,
                    create_time=_time(t.create_time),
                )
                for t in turns
            ],
        )

    @unary
    async def ListConversations(
        self, request: pb.ListConversationsRequest, context: grpc.aio.ServicerContext, caller: Caller
    ) -> pb.ListConversationsResponse:
        size = convert.page_size(request.page_size)
        page = await self._conversations.list(caller, size, request.page_token)
        return pb.ListConversationsResponse(
            conversations=[_info(c) for c in page.conversations], next_page_token=page.next_page_token
        )

    @unary
    async def DeleteConversation(
        self, request: pb.DeleteConversationRequest, context: grpc.aio.ServicerContext, caller: Caller
    ) -> pb.DeleteConversationResponse:
        deleted = await self._conversations.delete(caller, request.conversation_id)
        return pb.DeleteConversationResponse(deleted_turns=deleted)

"""FeedbackService: convert, record the feedback for the calling service, convert back."""

from __future__ import annotations

import grpc
from orchestrator_client.v1 import feedback_pb2, feedback_pb2_grpc

from orchestrator.api.status import unary
from orchestrator.domain import Caller
from orchestrator.pipeline.feedback import FeedbackOperations


class FeedbackServicer(feedback_pb2_grpc.FeedbackServiceServicer):
    def __init__(self, feedback: FeedbackOperations) -> None:
        self._feedback = feedback

    @unary
    async def RecordFeedback(
        self, request: feedback_pb2.RecordFeedbackRequest, context: grpc.aio.ServicerContext, caller: Caller
    ) -> feedback_pb2.RecordFeedbackResponse:
        score = request.score if request.HasField("score") else None
        receipt = await self._feedback.record(caller, request.request_id, score, request.label, request.comment)
        recorded = receipt.request
        return feedback_pb2.RecordFeedbackResponse(
            request_id=recorded.request_id,
            task_type=recorded.task_type,
            template_id=recorded.template_id,
            template_version=recorded.template_version,
            model=recorded.model,
            score=receipt.score,
        )

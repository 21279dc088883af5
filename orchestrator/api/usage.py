"""UsageService: convert, call the usage operations, convert back."""

from __future__ import annotations

import grpc
from google.protobuf import timestamp_pb2
from orchestrator_client.v1 import usage_pb2, usage_pb2_grpc

from orchestrator.api.status import unary
from orchestrator.domain import Caller
from orchestrator.pipeline.usage import UsageOperations


class UsageServicer(usage_pb2_grpc.UsageServiceServicer):
    def __init__(self, usage: UsageOperations) -> None:
        self._usage = usage

    @unary
    async def GetUsage(
        self, request: usage_pb2.GetUsageRequest, context: grpc.aio.ServicerContext, caller: Caller
    ) -> usage_pb2.GetUsageResponse:
        service, limits = await self._usage.usage(caller, request.service)
        response = usage_pb2.GetUsageResponse(service=service)
        for item in limits:
            reset = timestamp_pb2.Timestamp()
            reset.FromNanoseconds(int(item.reset_at * 1e9))
            response.limits.append(
                usage_pb2.LimitUsage(
                    subject=item.limit.subject,
                    limit=item.limit.name,
                    used=item.used,
                    maximum=item.limit.maximum,
                    reset_time=reset,
                )
            )
        return response

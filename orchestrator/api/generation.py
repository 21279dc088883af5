"""GenerationService: convert, call the pipeline, convert back."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
from orchestrator_client.v1 import generation_pb2, generation_pb2_grpc

from orchestrator.api import convert
from orchestrator.api.status import streaming, unary
from orchestrator.domain import Caller, ChatMessage, CircuitState, StreamStarted, TextDelta
from orchestrator.pipeline import ModelDirectory, Pipeline
from orchestrator.pipeline.models import ModelStatus

_CIRCUIT = {
    CircuitState.CLOSED: generation_pb2.CIRCUIT_STATE_CLOSED,
    CircuitState.OPEN: generation_pb2.CIRCUIT_STATE_OPEN,
    CircuitState.HALF_OPEN: generation_pb2.CIRCUIT_STATE_HALF_OPEN,
}


class GenerationServicer(generation_pb2_grpc.GenerationServiceServicer):
    def __init__(self, pipeline: Pipeline, models: ModelDirectory) -> None:
        self._pipeline = pipeline
        self._models = models

    @unary
    async def Generate(
        self, request: generation_pb2.GenerateRequest, context: grpc.aio.ServicerContext, caller: Caller
    ) -> generation_pb2.GenerateResponse:
        domain_request = convert.generate_request(request, context.time_remaining(), caller)
        return convert.generate_response(await self._pipeline.generate(domain_request))

    @streaming
    async def StreamGenerate(
        self, request: generation_pb2.GenerateRequest, context: grpc.aio.ServicerContext, caller: Caller
    ) -> AsyncIterator[generation_pb2.StreamGenerateResponse]:
        domain_request = convert.generate_request(request, context.time_remaining(), caller)
        events = self._pipeline.stream(domain_request)
        try:
            async for event in events:
                if isinstance(event, TextDelta):
                    yield generation_pb2.StreamGenerateResponse(delta=generation_pb2.StreamDelta(text=event.text))
                elif isinstance(event, StreamStarted):
                    start = generation_pb2.StreamStart(
                        request_id=event.request_id, model=event.model, provider=event.provider
                    )
                    yield generation_pb2.StreamGenerateResponse(start=start)
                else:
                    final = convert.generate_response(event, include_text=False)
                    yield generation_pb2.StreamGenerateResponse(final=final)
        finally:
            await events.aclose()

    @unary
    async def CountTokens(
        self, request: generation_pb2.CountTokensRequest, context: grpc.aio.ServicerContext, caller: Caller
    ) -> generation_pb2.CountTokensResponse:
        problems = convert.Problems()
        messages = convert.messages_from_proto(request.messages, "messages", problems)
        problems.raise_if_any()
        if request.text:
            messages.append(ChatMessage("user", request.text))
        model, count = await self._models.count_tokens(caller, request.model, tuple(messages))
        return generation_pb2.CountTokensResponse(token_count=count.count, model=model.name, estimated=count.estimated)

    @unary
    async def ListModels(
        self, request: generation_pb2.ListModelsRequest, context: grpc.aio.ServicerContext, caller: Caller
    ) -> generation_pb2.ListModelsResponse:
        return generation_pb2.ListModelsResponse(models=[_model_info(status) for status in self._models.list(caller)])


def _model_info(status: ModelStatus) -> generation_pb2.ModelInfo:
    s = status.spec
    return generation_pb2.ModelInfo(
        name=s.name,
        provider=s.provider,
        context_window=s.context_window,
        max_output_tokens=s.max_output_tokens,
        input_cost_per_million_tokens=s.input_cost_per_million_tokens,
        output_cost_per_million_tokens=s.output_cost_per_million_tokens,
        cached_input_cost_per_million_tokens=s.cached_input_price,
        capabilities=s.capabilities,
        aliases=s.aliases,
        circuit_state=_CIRCUIT[status.circuit_state],
        upstream_model=s.upstream_model,
    )

"""A channel factory with sane keepalive and retry settings, and deadline-bound call helpers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from types import TracebackType
from typing import Any

import grpc

from orchestrator_client.v1 import generation_pb2, generation_pb2_grpc, templates_pb2_grpc

# gRPC retries a call that failed with UNAVAILABLE (the server was restarting, or every model route
# was down) before any response arrived; throttling stops a retry storm when the server is down. The empty
# name is the default for every method, so services added to the contract are covered without an edit.
DEFAULT_SERVICE_CONFIG: dict[str, Any] = {
    "methodConfig": [
        {
            "name": [{}],
            "retryPolicy": {
                "maxAttempts": 3,
                "initialBackoff": "0.25s",
                "maxBackoff": "2s",
                "backoffMultiplier": 2,
                "retryableStatusCodes": ["UNAVAILABLE"],
            },
        }
    ],
    "retryThrottling": {"maxTokens": 10, "tokenRatio": 0.1},
}

MAX_MESSAGE_BYTES = 16 * 1024 * 1024
DEFAULT_TIMEOUT_SECONDS = 120.0


def channel_options(extra: Sequence[tuple[str, Any]] = ()) -> list[tuple[str, Any]]:
    """Channel options: keepalive within the server's ping policy, retries, message size limits."""
    options: dict[str, Any] = {
        # Ping every 30 s while calls are open so a dead connection is noticed during long streams;
        # the server accepts pings no more often than every 10 s.
        "grpc.keepalive_time_ms": 30_000,
        "grpc.keepalive_timeout_ms": 10_000,
        "grpc.keepalive_permit_without_calls": 0,
        "grpc.enable_retries": 1,
        "grpc.service_config": json.dumps(DEFAULT_SERVICE_CONFIG),
        "grpc.max_receive_message_length": MAX_MESSAGE_BYTES,
        "grpc.max_send_message_length": MAX_MESSAGE_BYTES,
    }
    options.update(dict(extra))
    return list(options.items())


class _BearerKey:
    """Adds `authorization: Bearer <key>` to a call's metadata."""

    def __init__(self, api_key: str) -> None:
        self._header = ("authorization", f"Bearer {api_key}")

    def _with_key(self, details: Any) -> Any:
        metadata = grpc.aio.Metadata(*(details.metadata or ()))
        metadata.add(*self._header)
        return details._replace(metadata=metadata)  # ClientCallDetails is a namedtuple


class _UnaryUnaryBearer(_BearerKey, grpc.aio.UnaryUnaryClientInterceptor):
    async def intercept_unary_unary(self, continuation: Any, client_call_details: Any, request: Any) -> Any:
        return await continuation(self._with_key(client_call_details), request)


class _UnaryStreamBearer(_BearerKey, grpc.aio.UnaryStreamClientInterceptor):
    async def intercept_unary_stream(self, continuation: Any, client_call_details: Any, request: Any) -> Any:
        return await continuation(self._with_key(client_call_details), request)


class _StreamUnaryBearer(_BearerKey, grpc.aio.StreamUnaryClientInterceptor):
    async def intercept_stream_unary(self, continuation: Any, client_call_details: Any, request_iterator: Any) -> Any:
        return await continuation(self._with_key(client_call_details), request_iterator)


class _StreamStreamBearer(_BearerKey, grpc.aio.StreamStreamClientInterceptor):
    async def intercept_stream_stream(self, continuation: Any, client_call_details: Any, request_iterator: Any) -> Any:
        return await continuation(self._with_key(client_call_details), request_iterator)


def bearer_interceptors(api_key: str) -> list[grpc.aio.ClientInterceptor]:
    """Interceptors that send `authorization: Bearer <api_key>` with every call, of every kind (grpc.aio files
    an interceptor under one kind only, hence four). Use TLS outside a trusted network. Interceptors rather
    than call credentials, which gRPC sends only over TLS: role services often talk plaintext inside a mesh."""
    kinds = (_UnaryUnaryBearer, _UnaryStreamBearer, _StreamUnaryBearer, _StreamStreamBearer)
    return [kind(api_key) for kind in kinds]


def create_channel(
    target: str,
    *,
    credentials: grpc.ChannelCredentials | None = None,
    options: Sequence[tuple[str, Any]] = (),
    api_key: str | None = None,
) -> grpc.aio.Channel:
    """Open an asyncio channel to the orchestrator (TLS when credentials are given; a bearer key if given)."""
    merged = channel_options(options)
    interceptors = bearer_interceptors(api_key) if api_key else None
    if credentials is None:
        return grpc.aio.insecure_channel(target, options=merged, interceptors=interceptors)
    return grpc.aio.secure_channel(target, credentials, options=merged, interceptors=interceptors)


class OrchestratorClient:
    """Calls GenerationService and TemplateService over one channel; every call has a deadline."""

    def __init__(
        self,
        target: str,
        *,
        credentials: grpc.ChannelCredentials | None = None,
        options: Sequence[tuple[str, Any]] = (),
        default_timeout: float = DEFAULT_TIMEOUT_SECONDS,
        api_key: str | None = None,
    ) -> None:
        self.channel = create_channel(target, credentials=credentials, options=options, api_key=api_key)
        self.generation = generation_pb2_grpc.GenerationServiceStub(self.channel)
        self.templates = templates_pb2_grpc.TemplateServiceStub(self.channel)
        self.default_timeout = default_timeout

    async def generate(
        self,
        request: generation_pb2.GenerateRequest,
        *,
        timeout: float | None = None,
        metadata: Sequence[tuple[str, str]] = (),
    ) -> generation_pb2.GenerateResponse:
        """The whole answer at once. Raises grpc.aio.AioRpcError on a non-OK status."""
        return await self.generation.Generate(
            request, timeout=timeout or self.default_timeout, metadata=tuple(metadata)
        )

    async def stream_generate(
        self,
        request: generation_pb2.GenerateRequest,
        *,
        timeout: float | None = None,
        metadata: Sequence[tuple[str, str]] = (),
    ) -> AsyncIterator[generation_pb2.StreamGenerateResponse]:
        """Stream events (start, deltas, final). A failure mid-stream raises grpc.aio.AioRpcError."""
        call = self.generation.StreamGenerate(
            request, timeout=timeout or self.default_timeout, metadata=tuple(metadata)
        )
        try:
            async for event in call:
                yield event
        finally:
            # Leaving the loop early (break, exception) must cancel the call so the server stops.
            call.cancel()

    async def close(self) -> None:
        await self.channel.close()

    async def __aenter__(self) -> OrchestratorClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

"""Our grpc.aio interceptor: grpc_server_* metrics and the server span for every RPC.

Wrapped handlers are built once per method and reused, so a call costs two counter increments, one
histogram observation and (only when tracing is on) one span.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

from orchestrator.telemetry.metrics import Metrics
from orchestrator.telemetry.tracing import TRACING


def _code(context: grpc.aio.ServicerContext, error: BaseException) -> str:
    if isinstance(error, asyncio.CancelledError | GeneratorExit):  # the caller went away
        return "CANCELLED"
    return _code_set(context) or "UNKNOWN"


def _code_set(context: grpc.aio.ServicerContext) -> str:
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return code.name
    return "" if code is None else str(code)


class _MethodRecorder:
    """The metric children and span naming of one method, resolved once."""

    def __init__(self, metrics: Metrics, method: str, kind: str) -> None:
        service, _, name = method.lstrip("/").partition("/")
        self._method = method
        self._started = metrics.rpc_started.labels(service, name, kind)
        self._seconds = metrics.rpc_seconds.labels(service, name, kind)
        self._handled = metrics.rpc_handled
        self._labels = (service, name, kind)

    def begin(self, context: grpc.aio.ServicerContext) -> tuple[float, Any, Any]:
        self._started.inc()
        if TRACING.enabled:
            span, token = TRACING.server_span(self._method, context.invocation_metadata())
            return time.perf_counter(), span, token
        return time.perf_counter(), None, None

    def end(self, begun: tuple[float, Any, Any], code: str) -> None:
        began, span, token = begun
        self._seconds.observe(time.perf_counter() - began)
        self._handled.labels(*self._labels, code).inc()
        if span is not None:
            TRACING.end_server_span(span, token, code)


class TelemetryInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics
        self._wrapped: dict[str, grpc.RpcMethodHandler] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        method = handler_call_details.method
        wrapped = self._wrapped.get(method)
        if wrapped is not None:
            return wrapped
        handler = await continuation(handler_call_details)
        if handler is None or handler.request_streaming:
            return handler  # unknown methods (UNIMPLEMENTED) and client streams pass through
        wrapped = self._wrapped[method] = self._wrap(method, handler)
        return wrapped

    def _wrap(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        if handler.response_streaming:
            recorder = _MethodRecorder(self._metrics, method, "server_stream")
            stream_behavior = handler.unary_stream
            if inspect.isasyncgenfunction(stream_behavior):

                async def stream(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
                    begun, code = recorder.begin(context), "OK"
                    try:
                        async for response in stream_behavior(request, context):
                            yield response
                    except BaseException as error:
                        code = _code(context, error)
                        raise
                    finally:
                        recorder.end(begun, code)

                wrapped: Callable[..., Any] = stream
            else:  # reader/writer style (our deadline-bounded streams, health's Watch)

                async def write_stream(request: Any, context: grpc.aio.ServicerContext) -> None:
                    begun, code = recorder.begin(context), "OK"
                    try:
                        await stream_behavior(request, context)
                        code = _code_set(context) or code  # a status queued without raising (a cut stream)
                    except BaseException as error:
                        code = _code(context, error)
                        raise
                    finally:
                        recorder.end(begun, code)

                wrapped = write_stream
            return grpc.unary_stream_rpc_method_handler(
                wrapped, handler.request_deserializer, handler.response_serializer
            )

        recorder = _MethodRecorder(self._metrics, method, "unary")
        unary_behavior = handler.unary_unary

        async def unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
            begun, code = recorder.begin(context), "OK"
            try:
                return await unary_behavior(request, context)
            except BaseException as error:
                code = _code(context, error)
                raise
            finally:
                recorder.end(begun, code)

        return grpc.unary_unary_rpc_method_handler(unary, handler.request_deserializer, handler.response_serializer)

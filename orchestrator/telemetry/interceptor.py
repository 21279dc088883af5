"""Our grpc.aio interceptor: grpc_server_* metrics and the server span for every RPC.

Wrapped handlers are built once per method and reused, so a call costs two counter increments, one
histogram observation and (only when tracing is on) one span.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

from orchestrator.telemetry.metrics import Metrics
from orchestrator.telemetry.tracing import TRACING


def _code(context: grpc.aio.ServicerContext, default: grpc.StatusCode) -> str:
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return code.name
    return default.name if code is None else str(code)


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
        service, _, name = method.lstrip("/").partition("/")
        kind = "server_stream" if handler.response_streaming else "unary"
        started = self._metrics.rpc_started.labels(service, name, kind)
        seconds = self._metrics.rpc_seconds.labels(service, name, kind)
        handled = self._metrics.rpc_handled

        def finish(begin: float, code: str) -> None:
            seconds.observe(time.perf_counter() - begin)
            handled.labels(service, name, kind, code).inc()

        if handler.response_streaming:
            behavior = handler.unary_stream

            async def stream(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
                started.inc()
                begin = time.perf_counter()
                span, token = TRACING.server_span(method, context.invocation_metadata()) if TRACING.enabled else (
                    None, None
                )  # fmt: skip
                code = "OK"
                try:
                    async for response in behavior(request, context):
                        yield response
                except asyncio.CancelledError:
                    code = "CANCELLED"
                    raise
                except BaseException:
                    code = _code(context, grpc.StatusCode.UNKNOWN)
                    raise
                finally:
                    finish(begin, code)
                    if span is not None:
                        TRACING.end_server_span(span, token, code)

            return grpc.unary_stream_rpc_method_handler(
                stream, handler.request_deserializer, handler.response_serializer
            )

        unary_behavior = handler.unary_unary

        async def unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
            started.inc()
            begin = time.perf_counter()
            span, token = TRACING.server_span(method, context.invocation_metadata()) if TRACING.enabled else (
                None, None
            )  # fmt: skip
            code = "OK"
            try:
                return await unary_behavior(request, context)
            except asyncio.CancelledError:
                code = "CANCELLED"
                raise
            except BaseException:
                code = _code(context, grpc.StatusCode.UNKNOWN)
                raise
            finally:
                finish(begin, code)
                if span is not None:
                    TRACING.end_server_span(span, token, code)

        return grpc.unary_unary_rpc_method_handler(unary, handler.request_deserializer, handler.response_serializer)

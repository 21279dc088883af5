"""A write deadline on every server stream, so a caller that stops reading cannot hold anything of ours.

grpc.aio sends a message only as fast as the caller's HTTP/2 window lets it: a caller that stops reading (a zero
window) leaves the write waiting forever, and with it the handler, the generation behind it and its upstream
connection. Here every server-streaming handler runs in the reader/writer style and each message is written
under `server.stream_write_timeout_seconds` (checked by one watchdog, so it may take up to a quarter more). At
most one message per stream is in flight (the send buffer is one message plus grpc's own transport buffer), and
when a write waits longer:

1. the response generator is closed at once, which closes the generation and its upstream connection;
2. a DEADLINE_EXCEEDED status (reason STREAM_WRITE_TIMEOUT) is queued behind the unread data, so a caller
   that reads again sees the stream end with it; if not even the first message went out, nothing can follow it;
3. the handler ends. What grpc keeps of the call (its HTTP/2 stream and the one unsent message) goes when the
   caller resets the stream, at its deadline, or when the connection is closed (keepalive, or the maximum
   connection age plus its grace: `server.max_connection_age_*`).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

from orchestrator.api.status import to_status
from orchestrator.errors import DeadlineExceededError, Reason

log = logging.getLogger(__name__)


class StreamWriteTimeout(Exception):
    """A write waited longer than the stream write timeout: the caller is not reading."""


class _DeadlineWriter:
    """The servicer context as a handler sees it, with `write` watched by the deadline."""

    def __init__(self, context: grpc.aio.ServicerContext) -> None:
        self._context = context
        self._task = asyncio.current_task()
        self.waiting_since: float | None = None  # loop time at which the pending write started
        self.timed_out = False
        self.wrote = False  # the first message (and with it the response headers) went out

    async def write(self, message: Any) -> None:
        self.waiting_since = asyncio.get_running_loop().time()
        try:
            await self._context.write(message)
        except asyncio.CancelledError:
            if not self.timed_out:
                raise  # the caller went away
            if self._task is not None:
                self._task.uncancel()  # the cancellation was ours, and is handled here
            raise StreamWriteTimeout from None
        finally:
            self.waiting_since = None
        self.wrote = True

    def expire(self) -> None:
        self.timed_out = True
        if self._task is not None:
            self._task.cancel()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)


class _Watchdog:
    """One timer for every stream: a check every quarter of the timeout instead of a timer per message, which
    would cost more than the rest of a delta's way through the server."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._writers: set[_DeadlineWriter] = set()
        self._task: asyncio.Task[None] | None = None

    def watch(self, writer: _DeadlineWriter) -> None:
        self._writers.add(writer)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="stream-write-watchdog")

    def forget(self, writer: _DeadlineWriter) -> None:
        self._writers.discard(writer)

    async def _run(self) -> None:
        try:
            while self._writers:
                await asyncio.sleep(self.timeout / 4)
                now = asyncio.get_running_loop().time()
                for writer in list(self._writers):
                    since = writer.waiting_since
                    if since is not None and now - since >= self.timeout and not writer.timed_out:
                        writer.expire()
        finally:
            self._task = None


class _CutLog:
    """One warning per cut, but at most one line per interval: a flood of slow readers must not flood the log."""

    INTERVAL = 10.0

    def __init__(self) -> None:
        self._last = -self.INTERVAL
        self._unlogged = 0

    def cut(self, context: grpc.aio.ServicerContext, method: str, timeout: float) -> None:
        now = time.monotonic()
        self._unlogged += 1
        if now - self._last < self.INTERVAL:
            return
        log.warning(
            "stream cut: the caller read nothing for %gs (%d streams cut since the last line)",
            timeout,
            self._unlogged,
            extra={"method": method, "peer": context.peer(), "reason": Reason.STREAM_WRITE_TIMEOUT.value},
        )
        self._last, self._unlogged = now, 0


_CUT_LOG = _CutLog()


async def _cut(context: grpc.aio.ServicerContext, writer: _DeadlineWriter, method: str, timeout: float) -> None:
    _CUT_LOG.cut(context, method, timeout)
    if not writer.wrote:
        # The unsent first message carries the response headers; no status can be sent after it. Ending the
        # handler as cancelled sends nothing more.
        raise asyncio.CancelledError
    status = to_status(
        DeadlineExceededError(
            f"the stream was cut: the caller read nothing for {timeout:g} s", reason=Reason.STREAM_WRITE_TIMEOUT
        )
    )
    # abort() starts the status batch before it first waits; the batch completes only once the caller has read
    # the data ahead of it, so do not wait for it. grpc sees the abort when the handler returns.
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(0):
            await context.abort(status.code, status.details, status.trailing_metadata)


def _bounded(behavior: Callable[..., Any], method: str, watchdog: _Watchdog) -> Callable[..., Awaitable[None]]:
    if inspect.isasyncgenfunction(behavior):

        async def from_generator(request: Any, context: grpc.aio.ServicerContext) -> None:
            writer = _DeadlineWriter(context)
            watchdog.watch(writer)
            responses: AsyncIterator[Any] = behavior(request, context)
            try:
                async for response in responses:
                    await writer.write(response)
            except StreamWriteTimeout:
                await responses.aclose()  # our side first: the generation and its upstream end here
                await _cut(context, writer, method, watchdog.timeout)
            finally:
                watchdog.forget(writer)
                await responses.aclose()

        return from_generator

    async def from_coroutine(request: Any, context: grpc.aio.ServicerContext) -> None:
        writer = _DeadlineWriter(context)
        watchdog.watch(writer)
        try:
            await behavior(request, writer)
        except StreamWriteTimeout:
            await _cut(context, writer, method, watchdog.timeout)
        finally:
            watchdog.forget(writer)

    return from_coroutine


class StreamWriteDeadline(grpc.aio.ServerInterceptor):
    """Serves every server-streaming method (ours, health's Watch) through deadline-bounded writes."""

    def __init__(self, timeout: float) -> None:
        self._watchdog = _Watchdog(timeout)
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
        if handler is None or handler.request_streaming or not handler.response_streaming:
            return handler
        wrapped = self._wrapped[method] = grpc.unary_stream_rpc_method_handler(
            _bounded(handler.unary_stream, method, self._watchdog),
            handler.request_deserializer,
            handler.response_serializer,
        )
        return wrapped

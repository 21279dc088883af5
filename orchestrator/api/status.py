"""The one place where domain errors become gRPC statuses with google.rpc details.

Statuses travel in HTTP/2 trailers (`grpc-message`, percent-encoded, and `grpc-status-details-bin`, base64), and
clients refuse trailers beyond their metadata limit (8 KiB by default) with a status of their own. Messages,
details and metadata often echo caller input (an id, a field name), so every text is cut to a fixed number of
bytes and the whole status to a fixed budget: a status always reaches the caller, whatever the input was.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from orchestrator.domain import Caller
from orchestrator.errors import ErrorKind, InternalError, OrchestratorError, Reason, ResourceExhaustedError
from orchestrator.redaction import SECRETS

log = logging.getLogger(__name__)

ERROR_DOMAIN = "orchestrator.llm"
MAX_MESSAGE_BYTES = 1024
MAX_TEXT_BYTES = 256  # each metadata value, field path and violation description
MAX_VIOLATIONS = 20
# The serialized google.rpc.Status: base64 makes it 4/3 larger, and grpc-message repeats the message (percent-
# encoding can triple it), which must all stay under the peers' 8 KiB metadata limit.
MAX_STATUS_BYTES = 3072
_ELLIPSIS = "…"
_CODES: dict[ErrorKind, grpc.StatusCode] = {kind: getattr(grpc.StatusCode, kind.value) for kind in ErrorKind}

Req = TypeVar("Req")
Resp = TypeVar("Resp")


def _pack(message: Any) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def clip(text: str, limit: int = MAX_TEXT_BYTES) -> str:
    """`text` cut to at most `limit` UTF-8 bytes (never inside a character), marked with an ellipsis when cut."""
    if len(text) * 4 <= limit:  # fast path: even all-4-byte characters fit
        return text
    data = text.encode("utf-8", "surrogatepass")
    if len(data) <= limit:
        return text
    keep = limit - len(_ELLIPSIS.encode())
    return data[:keep].decode("utf-8", "ignore") + _ELLIPSIS


def _details(error: OrchestratorError, violations: int) -> list[any_pb2.Any]:
    metadata = {clip(key): clip(SECRETS(value)) for key, value in error.metadata.items()}
    details = [_pack(error_details_pb2.ErrorInfo(reason=error.reason, domain=ERROR_DOMAIN, metadata=metadata))]
    if error.field_violations and violations:
        bad = [
            error_details_pb2.BadRequest.FieldViolation(field=clip(v.field), description=clip(SECRETS(v.description)))
            for v in error.field_violations[:violations]
        ]
        details.append(_pack(error_details_pb2.BadRequest(field_violations=bad)))
    if error.quota_violations:
        quota = [
            error_details_pb2.QuotaFailure.Violation(subject=clip(v.subject), description=clip(v.description))
            for v in error.quota_violations[:MAX_VIOLATIONS]
        ]
        details.append(_pack(error_details_pb2.QuotaFailure(violations=quota)))
    if error.retry_after is not None:
        delay = duration_pb2.Duration()
        delay.FromNanoseconds(int(max(error.retry_after, 0) * 1e9))
        details.append(_pack(error_details_pb2.RetryInfo(retry_delay=delay)))
    return details


def to_status(error: OrchestratorError) -> grpc.Status:
    code = getattr(code_pb2, _CODES[error.kind].name)
    message = clip(SECRETS(error.message), MAX_MESSAGE_BYTES)
    violations = min(len(error.field_violations), MAX_VIOLATIONS)
    status = status_pb2.Status(code=code, message=message, details=_details(error, violations))
    # Over budget only with many long violations: send fewer of them (the message names the first).
    while status.ByteSize() > MAX_STATUS_BYTES and violations:
        violations //= 2
        status = status_pb2.Status(code=code, message=message, details=_details(error, violations))
    return rpc_status.to_status(status)


def _internal(exc: BaseException, method: str) -> OrchestratorError:
    if isinstance(exc, MemoryError):
        # One request asked for more memory than the process has: refuse it, keep serving everyone else.
        log.warning("out of memory in %s; the request was refused", method)
        return ResourceExhaustedError(
            "the request needed more memory than the server can give it", reason=Reason.OUT_OF_MEMORY
        )
    # The traceback goes to the log; the caller learns only that it was our fault.
    log.error("unhandled error in %s", method, exc_info=exc)
    return InternalError("internal error; the server log has the details", reason=Reason.INTERNAL)


async def abort(context: grpc.aio.ServicerContext, error: OrchestratorError) -> None:
    status = to_status(error)
    await context.abort(status.code, status.details, status.trailing_metadata)


def unary(
    method: Callable[[Any, Req, grpc.aio.ServicerContext, Caller], Awaitable[Resp]],
) -> Callable[[Any, Req, grpc.aio.ServicerContext, Caller], Awaitable[Resp]]:
    """Wrap a unary servicer method: domain errors -> status; anything else -> INTERNAL, logged."""

    @functools.wraps(method)
    async def wrapper(self: Any, request: Req, context: grpc.aio.ServicerContext, caller: Caller) -> Resp:
        try:
            return await method(self, request, context, caller)
        except OrchestratorError as exc:
            await abort(context, exc)
        except grpc.aio.AbortError:
            raise
        except Exception as exc:
            await abort(context, _internal(exc, method.__qualname__))
        raise AssertionError("unreachable: abort raises")

    return wrapper


def streaming(
    method: Callable[[Any, Req, grpc.aio.ServicerContext, Caller], AsyncIterator[Resp]],
) -> Callable[[Any, Req, grpc.aio.ServicerContext, Caller], AsyncIterator[Resp]]:
    """Like `unary` for server-streaming methods: a failure at any point ends the stream non-OK."""

    @functools.wraps(method)
    async def wrapper(
        self: Any, request: Req, context: grpc.aio.ServicerContext, caller: Caller
    ) -> AsyncIterator[Resp]:
        try:
            async for item in method(self, request, context, caller):
                yield item
        except OrchestratorError as exc:
            await abort(context, exc)
        except grpc.aio.AbortError:
            raise
        except Exception as exc:
            await abort(context, _internal(exc, method.__qualname__))

    return wrapper

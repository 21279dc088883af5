"""The one place where domain errors become gRPC statuses with google.rpc details."""

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
from orchestrator.errors import ErrorKind, InternalError, OrchestratorError, Reason
from orchestrator.redaction import SECRETS

log = logging.getLogger(__name__)

ERROR_DOMAIN = "orchestrator.llm"
_CODES: dict[ErrorKind, grpc.StatusCode] = {kind: getattr(grpc.StatusCode, kind.value) for kind in ErrorKind}

Req = TypeVar("Req")
Resp = TypeVar("Resp")


def _pack(message: Any) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def to_status(error: OrchestratorError) -> grpc.Status:
    code = _CODES[error.kind]
    metadata = {key: SECRETS(value) for key, value in error.metadata.items()}
    details = [_pack(error_details_pb2.ErrorInfo(reason=error.reason, domain=ERROR_DOMAIN, metadata=metadata))]
    if error.field_violations:
        details.append(
            _pack(
                error_details_pb2.BadRequest(
                    field_violations=[
                        error_details_pb2.BadRequest.FieldViolation(field=v.field, description=SECRETS(v.description))
                        for v in error.field_violations
                    ]
                )
            )
        )
    if error.quota_violations:
        details.append(
            _pack(
                error_details_pb2.QuotaFailure(
                    violations=[
                        error_details_pb2.QuotaFailure.Violation(subject=v.subject, description=v.description)
                        for v in error.quota_violations
                    ]
                )
            )
        )
    if error.retry_after is not None:
        delay = duration_pb2.Duration()
        delay.FromNanoseconds(int(max(error.retry_after, 0) * 1e9))
        details.append(_pack(error_details_pb2.RetryInfo(retry_delay=delay)))
    status = status_pb2.Status(code=getattr(code_pb2, code.name), message=SECRETS(error.message), details=details)
    return rpc_status.to_status(status)


def _internal(exc: BaseException, method: str) -> OrchestratorError:
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

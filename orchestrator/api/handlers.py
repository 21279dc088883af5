"""Method handlers built from the service descriptors, with lenient request decoding.

grpcio answers INTERNAL when request bytes do not parse. A caller's malformed message is the
caller's error, so decoding failures reach the handler as `MalformedRequest` and become
INVALID_ARGUMENT (reason MALFORMED_REQUEST) like every other bad input.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf import message_factory
from google.protobuf.descriptor import ServiceDescriptor
from google.protobuf.message import DecodeError

from orchestrator.api.identity import credentials_of
from orchestrator.api.status import abort
from orchestrator.domain import Caller
from orchestrator.errors import InvalidArgumentError, OrchestratorError, Reason
from orchestrator.policy.identity import Credentials


@dataclass(frozen=True, slots=True)
class MalformedRequest:
    problem: str


def _lenient(message_class: Any) -> Callable[[bytes], Any]:
    def deserialize(data: bytes) -> Any:
        try:
            return message_class.FromString(data)
        except DecodeError as exc:
            return MalformedRequest(str(exc))

    return deserialize


def _malformed(request: MalformedRequest) -> InvalidArgumentError:
    return InvalidArgumentError(
        f"the request message could not be decoded: {request.problem}", reason=Reason.MALFORMED_REQUEST
    )


# The calling service, from a call's credentials (raises UnauthenticatedError); or the one Caller every call
# is while identity is off (the credentials are then not even read).
Authenticate = Callable[[Credentials], Caller] | Caller


async def _caller(context: grpc.aio.ServicerContext, authenticate: Authenticate) -> Caller:
    if isinstance(authenticate, Caller):
        return authenticate
    try:
        return authenticate(credentials_of(context))
    except OrchestratorError as refused:
        await abort(context, refused)
        raise AssertionError("unreachable: abort raises") from None


def _unary(behavior: Callable[..., Any], authenticate: Authenticate) -> Callable[..., Any]:
    async def handle(request: Any, context: grpc.aio.ServicerContext) -> Any:
        caller = await _caller(context, authenticate)
        if isinstance(request, MalformedRequest):
            await abort(context, _malformed(request))
        return await behavior(request, context, caller)

    return handle


def _server_streaming(behavior: Callable[..., AsyncIterator[Any]], authenticate: Authenticate) -> Callable[..., Any]:
    async def handle(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        caller = await _caller(context, authenticate)
        if isinstance(request, MalformedRequest):
            await abort(context, _malformed(request))
        async for response in behavior(request, context, caller):
            yield response

    return handle


def add_service(server: grpc.aio.Server, servicer: Any, service: ServiceDescriptor, authenticate: Authenticate) -> None:
    """Register every method of `service` on `server`, served by the same-named servicer methods, each called
    with the calling service (`servicer.Method(request, context, caller)`) once it is authenticated."""
    handlers: dict[str, grpc.RpcMethodHandler] = {}
    for method in service.methods:
        request_class = message_factory.GetMessageClass(method.input_type)
        response_class = message_factory.GetMessageClass(method.output_type)
        behavior = getattr(servicer, method.name)
        if method.client_streaming:
            raise TypeError(f"{method.full_name}: client streaming is not used by this service")
        make = grpc.unary_stream_rpc_method_handler if method.server_streaming else grpc.unary_unary_rpc_method_handler
        wrap = _server_streaming if method.server_streaming else _unary
        handlers[method.name] = make(
            wrap(behavior, authenticate),
            request_deserializer=_lenient(request_class),
            response_serializer=response_class.SerializeToString,
        )
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service.full_name, handlers),))
    server.add_registered_method_handlers(service.full_name, handlers)

"""Decoding of the google.rpc details that the orchestrator sends with every error.

The server puts a google.rpc.Status (ErrorInfo reason, BadRequest field violations, RetryInfo, ...) in the
`grpc-status-details-bin` trailer. Its message types are loaded from the descriptor set shipped with the stubs
into a private descriptor pool, so the client needs neither googleapis-common-protos nor grpcio-status, and
never clashes with a copy of google/rpc/*.proto that another library registers in the default pool.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

DETAILS_KEY = "grpc-status-details-bin"


@cache
def _message_class(full_name: str) -> Any:
    return message_factory.GetMessageClass(_pool().FindMessageTypeByName(full_name))


@cache
def _pool() -> descriptor_pool.DescriptorPool:
    raw = resources.files("orchestrator_client.v1").joinpath("google_rpc_details.binpb").read_bytes()
    pool = descriptor_pool.DescriptorPool()
    for file in descriptor_pb2.FileDescriptorSet.FromString(raw).file:  # dependencies come first
        pool.Add(file)
    return pool


@dataclass
class ErrorDetails:
    """What the orchestrator says about a failed call: the canonical code and its google.rpc details."""

    code: grpc.StatusCode
    message: str
    reason: str = ""  # ErrorInfo.reason in UPPER_SNAKE_CASE, e.g. MISSING_TEMPLATE_VARIABLES
    metadata: dict[str, str] = field(default_factory=dict)
    field_violations: dict[str, str] = field(default_factory=dict)  # field path -> what is wrong with it
    retry_delay: float | None = None  # RetryInfo: seconds to wait before trying again

    @property
    def code_name(self) -> str:
        return self.code.name

    @property
    def exit_status(self) -> int:
        """The gRPC status code number (INVALID_ARGUMENT -> 3): what the CLI exits with."""
        return int(self.code.value[0])


def error_details(error: grpc.RpcError) -> ErrorDetails:
    """Decode a failed call (grpc.aio.AioRpcError or a sync grpc.RpcError with code() and trailing_metadata())."""
    code: grpc.StatusCode = error.code()  # type: ignore[attr-defined]
    details = ErrorDetails(code=code, message=error.details() or "")  # type: ignore[attr-defined]
    raw = next((value for key, value in error.trailing_metadata() or () if key == DETAILS_KEY), None)  # type: ignore[attr-defined]
    if not isinstance(raw, bytes):
        return details
    status = _message_class("google.rpc.Status").FromString(raw)
    details.message = status.message or details.message
    for packed in status.details:
        name = packed.type_url.rpartition("/")[2]
        try:
            detail = _message_class(name).FromString(packed.value)
        except KeyError:  # a detail type this client does not know: skip it
            continue
        if name == "google.rpc.ErrorInfo":
            details.reason, details.metadata = detail.reason, dict(detail.metadata)
        elif name == "google.rpc.BadRequest":
            details.field_violations.update({v.field: v.description for v in detail.field_violations})
        elif name == "google.rpc.RetryInfo":
            details.retry_delay = detail.retry_delay.seconds + detail.retry_delay.nanos / 1e9
    return details

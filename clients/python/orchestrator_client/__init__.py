"""Client for the LLM Orchestrator's gRPC API (orchestrator.v1).

The generated stubs live in `orchestrator_client.v1` (`generation_pb2`, `templates_pb2`, `common_pb2` and
their `_grpc` modules); `OrchestratorClient` and `create_channel` are a thin typed helper over them, and
`error_details` decodes the google.rpc details of a failed call. `orchestrator-client` is the command line.
"""

from orchestrator_client._client import (
    DEFAULT_SERVICE_CONFIG,
    OrchestratorClient,
    bearer_interceptors,
    channel_options,
    create_channel,
)
from orchestrator_client._errors import ErrorDetails, error_details

__all__ = [
    "DEFAULT_SERVICE_CONFIG",
    "ErrorDetails",
    "OrchestratorClient",
    "bearer_interceptors",
    "channel_options",
    "create_channel",
    "error_details",
]

"""Client for the LLM Orchestrator's gRPC API (orchestrator.v1).

The generated stubs live in `orchestrator_client.v1` (`generation_pb2`, `templates_pb2`, `common_pb2` and
their `_grpc` modules); `OrchestratorClient` and `create_channel` are a thin typed helper over them.
"""

from orchestrator_client._client import (
    DEFAULT_SERVICE_CONFIG,
    OrchestratorClient,
    channel_options,
    create_channel,
)

__all__ = ["DEFAULT_SERVICE_CONFIG", "OrchestratorClient", "channel_options", "create_channel"]

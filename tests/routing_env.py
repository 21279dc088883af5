"""A real server routed to the fake upstream: models as data, one OpenAI-compatible provider."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from orchestrator_client import OrchestratorClient
from orchestrator_client.v1 import common_pb2
from orchestrator_client.v1 import generation_pb2 as gen

from orchestrator.api.server import OrchestratorServer
from orchestrator.config import settings_from_mapping
from tests.fakes import FakeUpstream
from tests.helpers import TEMPLATES

MODELS = [
    {"name": "primary", "context_window": 8000, "capabilities": ["chat"], "input_cost_per_million_tokens": 1.0},
    {"name": "fallback", "context_window": 8000, "capabilities": ["chat"], "input_cost_per_million_tokens": 2.0},
    {"name": "small", "context_window": 300, "capabilities": ["long"], "input_cost_per_million_tokens": 0.1},
    {"name": "large", "context_window": 100_000, "capabilities": ["long"], "input_cost_per_million_tokens": 5.0},
]
FAST_RETRIES = {"backoff_initial_seconds": 0.001, "backoff_max_seconds": 0.01}


def routed_config(
    fake: FakeUpstream,
    provider: dict[str, Any] | None = None,
    cache: dict[str, Any] | None = None,
    shared_state: dict[str, Any] | None = None,
    sections: dict[str, Any] | None = None,
    **routing: Any,
) -> dict[str, Any]:
    """The configuration of a server routed to the fake upstream (`sections` adds or replaces whole sections)."""
    return {
        "server": {"host": "127.0.0.1", "port": 0, "metrics_port": 0, "grace_seconds": 1},
        "providers": {"upstream": provider or {"type": "openai_compatible", "base_url": f"{fake.base_url}/v1"}},
        "models": [{"provider": "upstream", "max_output_tokens": 256, **m} for m in MODELS],
        "default_model": "primary",
        "routing": {**FAST_RETRIES, **routing},
        "templates": {"directory": str(TEMPLATES), "store": {"type": "memory"}},
        "feedback": {"store": {"type": "memory"}},
        "cache": cache or {"type": "memory"},
        "shared_state": shared_state or {},
        **(sections or {}),
    }


@contextlib.asynccontextmanager
async def routed_server(
    fake: FakeUpstream,
    provider: dict[str, Any] | None = None,
    metrics_port: int = 0,
    cache: dict[str, Any] | None = None,
    shared_state: dict[str, Any] | None = None,
    sections: dict[str, Any] | None = None,
    server: dict[str, Any] | None = None,
    **routing: Any,
) -> AsyncIterator[OrchestratorClient]:
    config = routed_config(fake, provider, cache, shared_state, sections, **routing)
    config["server"] = {**config["server"], **(server or {})}  # single server settings, on top of the defaults
    running = await OrchestratorServer.create(settings_from_mapping(config, env={}), metrics_port=metrics_port)
    await running.start()
    try:
        async with OrchestratorClient(f"127.0.0.1:{running.port}", default_timeout=30) as client:
            client.server = running  # type: ignore[attr-defined]  # tests read its port and metrics port
            yield client
    finally:
        await running.shutdown()


def ask(
    text: str = "hello",
    preferred: str = "primary",
    fallbacks: tuple[str, ...] = ("fallback",),
    capability: str = "chat",
) -> gen.GenerateRequest:
    return gen.GenerateRequest(
        messages=[common_pb2.Message(role=common_pb2.ROLE_USER, content=text)],
        selection=gen.ModelSelection(
            preferred_model=preferred, fallback_models=list(fallbacks), required_capabilities=[capability]
        ),
        params=gen.GenerationParams(max_output_tokens=32),
    )

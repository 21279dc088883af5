from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from orchestrator_client import OrchestratorClient

from orchestrator.api.server import OrchestratorServer
from tests.helpers import local_settings


@pytest_asyncio.fixture(scope="session")
async def local_server() -> AsyncIterator[OrchestratorServer]:
    """The real server, with the embedded model, on a free loopback port for the whole session."""
    server = await OrchestratorServer.create(local_settings())
    await server.start()
    yield server
    await server.shutdown()


@pytest_asyncio.fixture(scope="session")
async def client(local_server: OrchestratorServer) -> AsyncIterator[OrchestratorClient]:
    async with OrchestratorClient(f"127.0.0.1:{local_server.port}", default_timeout=60) as client:
        yield client

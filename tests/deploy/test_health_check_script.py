"""docker/grpc_health_check.py: the image's HEALTHCHECK and the chart's `helm test` pod, against a real server."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from orchestrator_client import OrchestratorClient

from tests.fakes import FakeUpstream
from tests.helpers import ROOT
from tests.routing_env import routed_server

pytestmark = pytest.mark.timeout(60)
SCRIPT = ROOT / "docker/grpc_health_check.py"


def check(target: str, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(SCRIPT), target, "--timeout=5", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)


@pytest_asyncio.fixture
async def client() -> AsyncIterator[OrchestratorClient]:
    async with FakeUpstream() as fake, routed_server(fake) as client:
        yield client


async def test_a_serving_server_passes(client: OrchestratorClient) -> None:
    target = f"127.0.0.1:{client.server.port}"  # type: ignore[attr-defined]

    result = await asyncio.to_thread(check, target)

    assert (result.returncode, result.stdout.strip()) == (0, f"{target} service='': SERVING")


async def test_an_unknown_health_service_fails(client: OrchestratorClient) -> None:
    target = f"127.0.0.1:{client.server.port}"  # type: ignore[attr-defined]

    result = await asyncio.to_thread(check, target, "--service", "no.such.Service")

    assert result.returncode == 1
    assert "health check failed: NOT_FOUND" in result.stderr


def test_nothing_listening_fails() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, never listening: connections are refused

        result = check(f"127.0.0.1:{port}")

    assert result.returncode == 1
    assert "health check failed: UNAVAILABLE" in result.stderr

"""Helpers for the cache tests: cacheable requests, metrics read from the real endpoint, waiting for waiters."""

from __future__ import annotations

import asyncio
import re
import socket
import time
import urllib.request
import uuid
from dataclasses import dataclass

import grpc
from grpc_status import rpc_status
from orchestrator_client import OrchestratorClient
from orchestrator_client.v1 import generation_pb2 as gen

from tests.helpers import ErrorDetails
from tests.routing_env import ask


def cacheable(
    text: str = "", policy: int = gen.CACHE_POLICY_USE, fallbacks: tuple[str, ...] = ()
) -> gen.GenerateRequest:
    request = ask(text or f"unique question {uuid.uuid4()}", fallbacks=fallbacks)
    request.cache.policy = policy  # type: ignore[assignment]
    return request


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def scrape(server: OrchestratorClient | int) -> str:
    """The metrics of a server: an in-process one's client, or the metrics port of one in another process."""
    port = server if isinstance(server, int) else server.server.metrics_port  # type: ignore[attr-defined]
    url = f"http://127.0.0.1:{port}/metrics"
    return await asyncio.to_thread(lambda: urllib.request.urlopen(url, timeout=10).read().decode())


def value(metrics: str, name: str, **labels: str) -> float:
    """The sum of a family's samples whose labels include `labels`."""
    total = 0.0
    for line in metrics.splitlines():
        match = re.fullmatch(rf"{re.escape(name)}(\{{.*\}})? (\S+)", line)
        if match and all(f'{k}="{v}"' in (match.group(1) or "") for k, v in labels.items()):
            total += float(match.group(2))
    return total


async def until_waiting(server: OrchestratorClient | int, n: int, timeout: float = 30.0) -> None:
    """Until `n` requests of this server wait for an identical request's answer."""
    deadline = time.monotonic() + timeout
    while (seen := value(await scrape(server), "orchestrator_cache_waiting")) != n:
        if time.monotonic() > deadline:
            raise TimeoutError(f"expected {n} waiting requests, saw {seen}")
        await asyncio.sleep(0.05)


@dataclass(frozen=True)
class Failure:
    code: grpc.StatusCode
    reason: str  # "" when the status came without details (e.g. the client's own deadline)


async def outcome(call: object) -> gen.GenerateResponse | Failure:
    """The response, or how the call failed."""
    try:
        return await call  # type: ignore[misc, no-any-return]
    except grpc.aio.AioRpcError as error:
        if rpc_status.from_call(error) is None:  # type: ignore[arg-type]
            return Failure(error.code(), "")
        return Failure(error.code(), ErrorDetails(error).reason)

"""Items 3 and 8 of issue 13: callers that stop reading, and floods of idle connections."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.attack.harness import Bystanders, Tally, ask, metric_sum
from tests.fakes import Behaviour
from tests.slow_reader import SlowReader

STREAM = "/orchestrator.v1.GenerationService/StreamGenerate"
H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])  # + an empty SETTINGS frame


async def _until(condition: Any, seconds: float) -> bool:
    for _ in range(int(seconds * 20)):
        if condition():
            return True
        await asyncio.sleep(0.05)
    return bool(condition())


async def zero_window_streams(env: Any, tally: Tally, streams: int = 1100, per_connection: int = 550) -> None:
    """The issue's slow readers: streams on connections whose windows are zero, pinning upstream connections.

    Cut means: the server ended the call (it is counted in grpc_server_handled_total) and closed its upstream
    connection, within the write timeout (2 s here) plus slack, while the callers are still connected.
    """
    service = await env.service()
    fake = env.fake
    fake.enqueue(*[Behaviour(text="one two three four five six", stall_after=3)] * streams, model="primary")

    def handled() -> float:
        return metric_sum(service.metrics_port, "grpc_server_handled_total", grpc_method="StreamGenerate")

    before = await asyncio.to_thread(handled)
    async with contextlib.AsyncExitStack() as stack:
        callers = [
            await stack.enter_async_context(SlowReader("127.0.0.1", service.port, window=0))
            for _ in range(streams // per_connection)
        ]
        for caller in callers:
            for i in range(per_connection):
                await caller.call(STREAM, ask(f"never read {i}"))
        await _until(lambda: fake.request_count >= streams, 20)
        for _ in range(20):  # until every stream has ended (or the bound)
            ended = await asyncio.to_thread(handled) - before
            if ended >= streams and fake.disconnects >= fake.request_count:
                break
            await asyncio.sleep(0.5)
        held = fake.request_count - fake.disconnects
        tally.tried, tally.clean = streams, int(min(ended, streams))
        tally.hung = streams - tally.clean
        if held:
            tally.note(f"{held} upstream connections still held by callers that read nothing", failing=True)
        if any(caller.closed_by_server.is_set() for caller in callers):
            tally.note("a slow caller's whole connection was closed")
        async with Bystanders(service, fake) as others:
            await asyncio.sleep(5)
        others.report(tally)


async def _watch_works(service: Any, tally: Tally) -> None:
    """An ordinary Watch gets the current status (so the case below is about a Watch that really writes)."""
    health = health_pb2_grpc.HealthStub(service.client.channel)
    watch = health.Watch(health_pb2.HealthCheckRequest(service=""), timeout=5)
    try:
        first = await asyncio.wait_for(anext(aiter(watch)), 5)
        if first.status != health_pb2.HealthCheckResponse.SERVING:
            tally.note(f"Watch said {first.status}", failing=True)
    except (grpc.aio.AioRpcError, TimeoutError, StopAsyncIteration) as exc:
        tally.note(f"health Watch is broken: {type(exc).__name__}", failing=True)
    finally:
        watch.cancel()


async def watch_never_read_blocks_shutdown(env: Any, tally: Tally) -> None:
    service = await env.fresh("watch-shutdown")
    await _watch_works(service, tally)
    async with SlowReader("127.0.0.1", service.port, window=0) as caller:
        await caller.call("/grpc.health.v1.Health/Watch", health_pb2.HealthCheckRequest(service=""))
        await asyncio.sleep(0.5)
        service.signal(signal.SIGTERM)
        assert service.process is not None
        tally.tried = 1
        try:
            code = await asyncio.wait_for(asyncio.to_thread(service.process.wait), 15)
        except TimeoutError:
            tally.count("hung", "SIGTERM: the process did not exit within 15 s")
            tally.tried = 1
        else:
            tally.tried -= 1
            tally.count("clean" if code == 0 else "other", f"exit status {code}")
    await service.stop()


async def _idle_connection(port: int, closed: list[int]) -> asyncio.StreamWriter | None:
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        closed.append(1)
        return None
    writer.write(H2_PREFACE)

    async def watch() -> None:
        with contextlib.suppress(OSError):
            while await reader.read(4096):
                pass
        closed.append(1)

    asyncio.get_running_loop().create_task(watch())
    return writer


async def idle_connection_flood(env: Any, tally: Tally, connections: int = 1500) -> None:
    """Idle HTTP/2 connections beyond the process's soft descriptor limit (1,024, hard 4,096 here)."""
    service = await env.fresh("flood", nofile=(1024, 4096))
    closed: list[int] = []
    writers = []
    try:
        async with Bystanders(service, env.fake) as others:
            for start in range(0, connections, 100):
                batch = [_idle_connection(service.port, closed) for _ in range(start, min(start + 100, connections))]
                writers += await asyncio.gather(*batch)
            await asyncio.sleep(3)
        others.report(tally)
        # Idle connections must be closed by the server (the harness sets a 3 s idle time where supported).
        await _until(lambda: len(closed) >= connections, 12)
        tally.tried, tally.clean = connections, min(len(closed), connections)
        tally.other = connections - tally.clean
        if tally.other:
            tally.note(f"{tally.other} idle connections kept open")
    finally:
        for writer in writers:
            if writer is not None:
                writer.close()
        await service.stop()


CASES = [
    ("3", "1,100 zero-window streams", zero_window_streams),
    ("3", "health Watch never read, SIGTERM", watch_never_read_blocks_shutdown),
    ("8", "1,500 idle connections, soft fd 1,024", idle_connection_flood),
]

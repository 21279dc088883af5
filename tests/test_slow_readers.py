"""A caller that stops reading its stream (HTTP/2 window closed) is cut after the stream write timeout: its
upstream connection is closed at once and every other caller is served as usual."""

from __future__ import annotations

import asyncio
import base64

from google.rpc import error_details_pb2, status_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.fakes import Behaviour, FakeUpstream
from tests.routing_env import ask, routed_server
from tests.slow_reader import SlowReader

STREAM = "/orchestrator.v1.GenerationService/StreamGenerate"
WRITE_TIMEOUT = 1.0
# The upstream answers three deltas, then waits until the client goes away: only a cut ends these streams (the
# idle timeout is far away).
STALLING = Behaviour(text="one two three four five six", stall_after=3)
SETTINGS = {"server": {"stream_write_timeout_seconds": WRITE_TIMEOUT}, "stream_idle_timeout_seconds": 120}


async def wait_for_requests(fake: FakeUpstream, n: int) -> None:
    for _ in range(1000):
        if fake.request_count >= n:
            return
        await asyncio.sleep(0.01)
    raise TimeoutError(f"the fake received {fake.request_count} of {n} requests")


async def test_callers_that_never_read_are_cut_and_their_upstreams_closed() -> None:
    async with FakeUpstream() as fake, routed_server(fake, **SETTINGS) as client:
        fake.enqueue(*[STALLING] * 5, model="primary")
        port = client.server.port  # type: ignore[attr-defined]
        async with SlowReader("127.0.0.1", port, window=0) as caller:
            streams = [await caller.call(STREAM, ask(text=f"slow {i}")) for i in range(5)]
            await wait_for_requests(fake, 5)

            # Five upstream connections are held by callers that read nothing; each is closed within the timeout.
            await fake.wait_for_disconnects(5, timeout=WRITE_TIMEOUT + 5)

            # Everyone else, on the same model, is served while those callers are still connected.
            answers = await asyncio.gather(*[client.generate(ask(text=f"fine {i}"), timeout=10) for i in range(5)])
            streamed = [e async for e in client.stream_generate(ask(text="streaming"), timeout=10)]
            assert not caller.closed_by_server.is_set()
        assert [a.text for a in answers] == [f"Hello! You said: fine {i}" for i in range(5)]
        assert streamed[-1].WhichOneof("event") == "final"
        assert all(not s.data for s in streams)  # not one byte of data was ever allowed through


async def test_a_caller_that_reads_again_after_the_cut_sees_the_stream_end_with_deadline_exceeded() -> None:
    async with FakeUpstream() as fake, routed_server(fake, **SETTINGS) as client:
        fake.enqueue(STALLING, model="primary")
        port = client.server.port  # type: ignore[attr-defined]
        # Room for the start event (65 bytes framed) and part of the first delta: the stream stalls in that delta.
        async with SlowReader("127.0.0.1", port, window=70) as caller:
            stream = await caller.call(STREAM, ask(text="a long answer please"))
            await fake.wait_for_disconnects(1, timeout=WRITE_TIMEOUT + 5)

            await caller.read_again(stream)
            async with asyncio.timeout(5):
                await stream.ended.wait()

        assert stream.trailers["grpc-status"] == "4"  # DEADLINE_EXCEEDED, after what was already queued
        status = status_pb2.Status.FromString(base64.b64decode(stream.trailers["grpc-status-details-bin"] + "=="))
        info = error_details_pb2.ErrorInfo()
        status.details[0].Unpack(info)
        assert info.reason == "STREAM_WRITE_TIMEOUT"


async def test_a_health_watcher_that_never_reads_cannot_hold_up_shutdown() -> None:
    async with FakeUpstream() as fake, routed_server(fake, **SETTINGS) as client:
        server = client.server  # type: ignore[attr-defined]
        async with SlowReader("127.0.0.1", server.port, window=0) as caller:
            await caller.call("/grpc.health.v1.Health/Watch", health_pb2.HealthCheckRequest(service=""))
            await asyncio.sleep(0.2)  # the watch writes SERVING and blocks on the closed window, holding its lock

            # Setting a status takes the same lock: it waits for the watcher's write, which is cut in time.
            async with asyncio.timeout(WRITE_TIMEOUT + 5):
                await server.health.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
            reply = await client.channel.unary_unary(
                "/grpc.health.v1.Health/Check",
                request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
                response_deserializer=health_pb2.HealthCheckResponse.FromString,
            )(health_pb2.HealthCheckRequest(service=""), timeout=5)
        assert reply.status == health_pb2.HealthCheckResponse.NOT_SERVING


async def test_a_reader_slower_than_the_model_is_not_cut() -> None:
    async with FakeUpstream() as fake, routed_server(fake, **SETTINGS) as client:
        fake.enqueue(Behaviour(text=" ".join(["word"] * 30)), model="primary")
        words = 0
        async for event in client.stream_generate(ask(), timeout=20):
            await asyncio.sleep(0.05)  # slow, but reading: the transport window never closes
            if event.WhichOneof("event") == "delta":
                words += event.delta.text.count("word")
            last = event
        assert last.WhichOneof("event") == "final"
        assert words == 30


async def test_health_watch_reports_the_status_through_the_interceptors() -> None:
    async with FakeUpstream() as fake, routed_server(fake, **SETTINGS) as client:
        watch = health_pb2_grpc.HealthStub(client.channel).Watch(health_pb2.HealthCheckRequest(service=""), timeout=5)

        first = await anext(aiter(watch))
        watch.cancel()

        assert first.status == health_pb2.HealthCheckResponse.SERVING

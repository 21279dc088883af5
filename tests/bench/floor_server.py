"""The floor: a bare grpc.aio GenerationService (Generate + StreamGenerate) that answers a fixed response at once.

    python -m tests.bench.floor_server --port 0     # prints `floor listening on port N`, serves until SIGTERM

It costs what grpc.aio, protobuf and asyncio cost per call and nothing else, so the orchestrator's RPS is
reported as a fraction of it. The answer has the size of the fake upstream's echo of the benchmark prompt.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections.abc import AsyncIterator

import grpc
from orchestrator_client.v1 import generation_pb2 as gen
from orchestrator_client.v1 import generation_pb2_grpc

DELTAS = 64
TEXT = "Hello! You said: " + ("Please write code for the following requirement. " * 10)


def _response(text: str) -> gen.GenerateResponse:
    return gen.GenerateResponse(
        request_id="floor",
        text=text,
        model="bench-model",
        provider="floor",
        usage=gen.Usage(input_tokens=120, output_tokens=DELTAS),
        finish_reason=gen.FINISH_REASON_STOP,
        attempts=[gen.Attempt(model="bench-model", provider="floor", outcome=gen.ATTEMPT_OUTCOME_SUCCESS)],
        latency_ms=0.1,
        template_id="code_generation",
        template_version="1.0",
    )


class FloorServicer(generation_pb2_grpc.GenerationServiceServicer):
    def __init__(self) -> None:
        self._unary = _response(TEXT)
        step = len(TEXT) // DELTAS
        pieces = [TEXT[i * step : (i + 1) * step] for i in range(DELTAS - 1)] + [TEXT[(DELTAS - 1) * step :]]
        start = gen.StreamStart(request_id="floor", model="bench-model", provider="floor")
        self._stream = [
            gen.StreamGenerateResponse(start=start),
            *(gen.StreamGenerateResponse(delta=gen.StreamDelta(text=p)) for p in pieces),
            gen.StreamGenerateResponse(final=_response("")),
        ]

    async def Generate(self, request: gen.GenerateRequest, context: grpc.aio.ServicerContext) -> gen.GenerateResponse:
        return self._unary

    async def StreamGenerate(
        self, request: gen.GenerateRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[gen.StreamGenerateResponse]:
        for event in self._stream:
            yield event


async def serve(host: str, port: int) -> None:
    server = grpc.aio.server()
    generation_pb2_grpc.add_GenerationServiceServicer_to_server(FloorServicer(), server)
    bound = server.add_insecure_port(f"{host}:{port}")
    await server.start()
    print(f"floor listening on port {bound}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.stop(1)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.floor_server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    asyncio.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()

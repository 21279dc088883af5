"""The fake upstream with a delay between streamed deltas, so that many streams overlap.

    python -m tests.bench.slow_fake --port 0 --chunk-delay-ms 50 --stream-chunks 64

Prints `fake upstream listening on port N` and serves until SIGTERM (like `python -m tests.fakes.upstream`,
which has no chunk-delay knob).
"""

from __future__ import annotations

import argparse
import asyncio
import signal

from tests.fakes.upstream import Behaviour, FakeUpstream


async def serve(args: argparse.Namespace) -> None:
    fake = FakeUpstream(host=args.host, port=args.port, record=False)
    fake.set_default(
        Behaviour(delay=args.latency_ms / 1000, chunks=args.stream_chunks, chunk_delay=args.chunk_delay_ms / 1000)
    )
    await fake.start()
    print(f"fake upstream listening on port {fake.port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await fake.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.slow_fake")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--chunk-delay-ms", type=float, default=50.0)
    parser.add_argument("--stream-chunks", type=int, default=64)
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()

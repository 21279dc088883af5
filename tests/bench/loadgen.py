"""The load generator: its own process, driven by JSON lines on stdin, answering JSON lines on stdout.

    python -m tests.bench.loadgen      # prints {"ready": true}; then one reply per command line

Targets are gRPC (`{"kind": "grpc", "addr": "127.0.0.1:N"}`, optional `"metadata": [[key, value], ...]`: the
orchestrator or the floor, one channel per address; `"channels": N` spreads unary calls over N connections, which
the kernel spreads over the server's worker processes), the fake upstream called directly over HTTP
(`{"kind": "http", "url": ".../v1/chat/completions"}`) with raw httpx2 (the transport the `openai` SDK is built on,
without the SDK's request building and pydantic parsing), or an OpenAI-format HTTP target through aiohttp
(`{"kind": "aiohttp", "url": ..., "headers": {...}}`: the peer gateways and their direct baseline; httpclient.py).

Commands (`op`): setup, unary, stream, hold, calls, quit. Latencies are closed-loop: `concurrency` workers,
each sending its next call when the previous one finished, for `duration` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
import httpx2
from google.protobuf import json_format
from orchestrator_client.v1 import generation_pb2 as gen
from orchestrator_client.v1 import generation_pb2_grpc

from tests.bench.httpclient import AiohttpTargets
from tests.bench.stats import summary

CALL_TIMEOUT = 60.0
US = 1e-3  # perf_counter_ns -> microseconds


class LoadGen:
    def __init__(self) -> None:
        self.request = gen.GenerateRequest()
        self.unary_body = b""
        self.stream_body = b""
        self._channels: dict[tuple[str, int], tuple[grpc.aio.Channel, generation_pb2_grpc.GenerationServiceStub]] = {}
        self._http = httpx2.AsyncClient(
            timeout=CALL_TIMEOUT, limits=httpx2.Limits(max_connections=2000, max_keepalive_connections=2000)
        )
        self._aiohttp = AiohttpTargets(CALL_TIMEOUT)

    async def aclose(self) -> None:
        await self._http.aclose()
        await self._aiohttp.aclose()
        for channel, _ in self._channels.values():
            await channel.close()

    def stub(self, addr: str, index: int = 0) -> generation_pb2_grpc.GenerationServiceStub:
        if (addr, index) not in self._channels:
            options = [("grpc.max_receive_message_length", 16 * 1024 * 1024), ("grpc.enable_retries", 0)]
            # A subchannel pool of its own: channels to one address would otherwise share one connection.
            options.append(("grpc.use_local_subchannel_pool", 1))
            channel = grpc.aio.insecure_channel(addr, options=options)
            self._channels[addr, index] = (channel, generation_pb2_grpc.GenerationServiceStub(channel))
        return self._channels[addr, index][1]

    def setup(self, cmd: dict[str, Any]) -> dict[str, Any]:
        self.request = json_format.ParseDict(cmd["request"], gen.GenerateRequest())
        self.unary_body = json.dumps(cmd["http_body"]).encode()
        streaming = {**cmd["http_body"], "stream": True, "stream_options": {"include_usage": True}}
        self.stream_body = json.dumps(streaming).encode()
        return {"ok": True}

    # -- one call of each kind ---------------------------------------------------------------------------------------

    def unary_call(self, target: dict[str, Any]) -> Callable[[], Awaitable[None]]:
        if target["kind"] == "grpc":
            stubs = itertools.cycle([self.stub(target["addr"], i) for i in range(target.get("channels", 1))])
            request = self.request
            metadata = tuple(tuple(pair) for pair in target.get("metadata", ())) or None

            async def grpc_call() -> None:
                response = await next(stubs).Generate(request, timeout=CALL_TIMEOUT, metadata=metadata)
                if not response.text:
                    raise RuntimeError("empty answer")

            return grpc_call
        if target["kind"] == "aiohttp":
            return lambda: self._aiohttp.unary(target, self.unary_body)
        url, body, headers = target["url"], self.unary_body, {"content-type": "application/json"}

        async def http_call() -> None:
            response = await self._http.post(url, content=body, headers=headers)
            if response.status_code != 200 or not json.loads(response.content)["choices"][0]["message"]["content"]:
                raise RuntimeError(f"HTTP {response.status_code}")

        return http_call

    async def stream_call(
        self, target: dict[str, Any], timeout: float = CALL_TIMEOUT, request: gen.GenerateRequest | None = None
    ) -> dict[str, Any]:
        """One streamed answer: call start, start-event time, delta times (perf_counter_ns), final seen."""
        started = time.perf_counter_ns()
        times: list[int] = []
        start_at = 0
        final = False
        output_tokens = 0
        if target["kind"] == "grpc":
            order_ok = True
            metadata = tuple(tuple(pair) for pair in target.get("metadata", ())) or None
            call = self.stub(target["addr"]).StreamGenerate(
                self.request if request is None else request, timeout=timeout, metadata=metadata
            )
            async for event in call:
                now = time.perf_counter_ns()
                kind = event.WhichOneof("event")
                if kind == "delta":
                    times.append(now)
                    order_ok = order_ok and start_at > 0 and not final
                elif kind == "start":
                    order_ok = order_ok and start_at == 0 and not times
                    start_at = now
                elif kind == "final":
                    final = True
                    output_tokens = event.final.usage.output_tokens
            if not order_ok:
                raise RuntimeError("events out of order (want start, deltas, final)")
        elif target["kind"] == "aiohttp":
            start_at, times, final, output_tokens = await self._aiohttp.stream(target, self.stream_body)
        else:
            async with self._http.stream(
                "POST", target["url"], content=self.stream_body, headers={"content-type": "application/json"}
            ) as response:
                start_at = time.perf_counter_ns()
                async for line in response.aiter_lines():
                    if not line.startswith("data: "):
                        continue
                    data = line[6:]
                    if data == "[DONE]":
                        final = True
                        break
                    chunk = json.loads(data)
                    if chunk.get("usage"):
                        output_tokens = chunk["usage"]["completion_tokens"]
                    choices = chunk["choices"]
                    if choices and choices[0]["delta"].get("content"):
                        times.append(time.perf_counter_ns())
        return {"started": started, "start": start_at, "times": times, "final": final, "output_tokens": output_tokens}

    # -- commands ----------------------------------------------------------------------------------------------------

    async def _closed_loop(
        self, concurrency: int, duration: float, once: Callable[[], Awaitable[Any]]
    ) -> tuple[list[Any], int, str, float]:
        results: list[Any] = []
        errors = 0
        first_error = ""
        began = time.perf_counter()
        end = began + duration
        finished = began

        async def worker() -> None:
            nonlocal errors, first_error, finished
            while time.perf_counter() < end:
                try:
                    results.append(await once())
                except Exception as exc:
                    errors += 1
                    first_error = first_error or f"{type(exc).__name__}: {exc}"[:300]
                finished = time.perf_counter()

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return results, errors, first_error, finished - began

    async def unary(self, cmd: dict[str, Any]) -> dict[str, Any]:
        call = self.unary_call(cmd["target"])

        async def timed() -> float:
            t0 = time.perf_counter_ns()
            await call()
            return (time.perf_counter_ns() - t0) * US

        latencies, errors, first_error, elapsed = await self._closed_loop(cmd["concurrency"], cmd["duration"], timed)
        return {
            "n": len(latencies),
            "errors": errors,
            "first_error": first_error,
            "elapsed_s": elapsed,
            "rps": len(latencies) / elapsed if elapsed else 0.0,
            "latency_us": summary(latencies),
        }

    async def stream(self, cmd: dict[str, Any]) -> dict[str, Any]:
        target = cmd["target"]
        expected = cmd.get("deltas", 0)

        async def once() -> dict[str, Any]:
            return await self.stream_call(target)

        calls, errors, first_error, elapsed = await self._closed_loop(cmd["concurrency"], cmd["duration"], once)
        ttft, mean_gap, gaps, total = [], [], [], []
        incomplete = 0
        for c in calls:
            times = c["times"]
            if not c["final"] or (expected and len(times) != expected):
                incomplete += 1
                continue
            ttft.append((times[0] - c["started"]) * US)
            total.append((times[-1] - c["started"]) * US)
            if len(times) > 1:
                mean_gap.append((times[-1] - times[0]) * US / (len(times) - 1))
                gaps.extend((b - a) * US for a, b in itertools.pairwise(times))
        return {
            "n": len(calls),
            "errors": errors,
            "first_error": first_error,
            "incomplete": incomplete,
            "elapsed_s": elapsed,
            "streams_per_s": len(calls) / elapsed if elapsed else 0.0,
            "ttft_us": summary(ttft),
            "per_token_us": summary(mean_gap),  # per stream: (last delta - first delta) / (deltas - 1)
            "gap_us": summary(gaps),  # every gap between consecutive deltas
            "total_us": summary(total),
        }

    async def calls(self, cmd: dict[str, Any]) -> dict[str, Any]:
        """`n` streams one after another; each call's timings (for the embedded-model comparison)."""
        out = []
        request = json_format.ParseDict(cmd["request"], gen.GenerateRequest()) if "request" in cmd else None
        for _ in range(cmd["n"]):
            c = await self.stream_call(cmd["target"], cmd.get("timeout", 300.0), request)
            times = c["times"]
            out.append(
                {
                    "deltas": len(times),
                    "output_tokens": c["output_tokens"],
                    "final": c["final"],
                    "ttft_s": (times[0] - c["started"]) / 1e9 if times else None,
                    "total_s": ((times[-1] if times else time.perf_counter_ns()) - c["started"]) / 1e9,
                    "decode_s": (times[-1] - times[0]) / 1e9 if len(times) > 1 else None,
                }
            )
        return {"calls": out}

    async def hold(self, cmd: dict[str, Any]) -> dict[str, Any]:
        """Ramp to `streams` concurrent StreamGenerate calls; check every stream got start + deltas + final."""
        stub = self.stub(cmd["target"]["addr"])
        n, ramp, expected, stall_s = cmd["streams"], cmd["ramp_s"], cmd["deltas"], cmd["stall_s"]
        active = peak = 0
        all_open_at: float | None = None
        opened = 0
        outcomes = {"complete": 0, "errors": 0, "missing_frames": 0, "stalled": 0, "out_of_order": 0}
        max_gaps: list[float] = []
        first_error = ""
        began = time.perf_counter()

        async def one(i: int) -> None:
            nonlocal active, peak, opened, all_open_at, first_error
            await asyncio.sleep(i * ramp / n)
            active += 1
            opened += 1
            peak = max(peak, active)
            if opened == n:
                all_open_at = time.perf_counter()
            deltas, seen_start, final, max_gap = 0, False, False, 0.0
            last = time.perf_counter()
            try:
                async for event in stub.StreamGenerate(self.request, timeout=cmd["timeout"]):
                    now = time.perf_counter()
                    if seen_start:
                        max_gap = max(max_gap, now - last)
                    last = now
                    kind = event.WhichOneof("event")
                    if kind == "start":
                        if seen_start or deltas:
                            outcomes["out_of_order"] += 1
                        seen_start = True
                    elif kind == "delta":
                        deltas += 1
                    else:
                        final = True
            except grpc.aio.AioRpcError as exc:
                outcomes["errors"] += 1
                first_error = first_error or f"{exc.code().name}: {exc.details()}"[:300]
            finally:
                active -= 1
            max_gaps.append(max_gap * 1000)
            if max_gap > stall_s:
                outcomes["stalled"] += 1
            if seen_start and final and deltas == expected:
                outcomes["complete"] += 1
            elif final or deltas:
                outcomes["missing_frames"] += 1

        await asyncio.gather(*(one(i) for i in range(n)))
        return {
            **outcomes,
            "streams": n,
            "peak_concurrent": peak,
            "all_open_after_s": (all_open_at - began) if all_open_at else None,
            "elapsed_s": time.perf_counter() - began,
            "max_gap_ms": summary(max_gaps),
            "first_error": first_error,
        }


async def main() -> None:
    loadgen = LoadGen()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    print(json.dumps({"ready": True}), flush=True)
    handlers: dict[str, Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]] = {
        "unary": loadgen.unary,
        "stream": loadgen.stream,
        "hold": loadgen.hold,
        "calls": loadgen.calls,
    }
    try:
        while line := await reader.readline():
            cmd = json.loads(line)
            if cmd["op"] == "quit":
                break
            try:
                reply = loadgen.setup(cmd) if cmd["op"] == "setup" else await handlers[cmd["op"]](cmd)
            except Exception as exc:
                reply = {"failed": f"{type(exc).__name__}: {exc}"[:500]}
            print(json.dumps(reply), flush=True)
    finally:
        with contextlib.suppress(Exception):
            await loadgen.aclose()


if __name__ == "__main__":
    asyncio.run(main())

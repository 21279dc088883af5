"""A fake LLM upstream: a dependency-free asyncio HTTP/1.1 server speaking the real OpenAI Chat Completions and
Anthropic Messages wire protocols (JSON and SSE), with fault-injection knobs, recording what it receives.

    async with FakeUpstream() as fake:
        fake.enqueue(Behaviour(status=429, retry_after=2), Behaviour(text="ok"))
        client = openai.AsyncOpenAI(base_url=f"{fake.base_url}/v1", api_key="sk-test", max_retries=0)
        ...
        assert fake.requests[0].model == "gpt-4o-mini"

Routes: POST /v1/chat/completions (OpenAI), POST /v1/messages and /v1/messages/count_tokens (Anthropic),
GET /v1/models (Anthropic shape when the request carries `anthropic-version`, else OpenAI), POST /v1/embeddings
(OpenAI: a deterministic bag-of-words vector, so texts with the same words in any order and case are identical);
anything else is a 404 with the API's error body. Only the two generation routes consume behaviours; every request
is recorded. `hold()` makes generation requests wait (recorded, before answering) until `release()`.

Standalone, for benchmarks in another process (prints `fake upstream listening on port N`, serves until SIGTERM):

    python -m tests.fakes.upstream --port 0 --latency-ms 20 --stream-chunks 16 [--chunk-delay-ms 50]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import random
import signal
import time
from collections import deque
from dataclasses import replace
from types import TracebackType
from typing import Any

from tests.fakes import anthropic_wire, openai_wire
from tests.fakes.behaviour import Answer, Api, Behaviour, RecordedRequest, Wire, split_text
from tests.fakes.http11 import ClientGone, Connection, Request, head

__all__ = ["Answer", "Behaviour", "FakeUpstream", "RecordedRequest", "main"]

_WIRES: dict[Api, Wire] = {"openai": openai_wire, "anthropic": anthropic_wire}


class FakeUpstream:
    """The fake upstream server; an async context manager. See the module docstring."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, seed: int = 0, record: bool = True) -> None:
        self.host = host
        self.port = port
        self.seed = seed
        self.record = record  # False: keep `requests` empty (long benchmark runs)
        self.requests: list[RecordedRequest] = []
        self.disconnects = 0
        self.open_connections = 0
        self.connections_total = 0  # TCP connections accepted; shows whether clients reuse connections
        self.request_count = 0
        self.server_errors: list[BaseException] = []  # bugs in the fake itself; tests may assert it stays empty
        self._queues: dict[str | None, deque[Behaviour]] = {}
        self._defaults: dict[str | None, Behaviour] = {}
        self._models: dict[str, None] = {}  # models named in enqueue/set_default, in order
        self._rng = random.Random(seed)
        self._ids = itertools.count(1)
        self._changed = asyncio.Event()
        self._gate = asyncio.Event()
        self._gate.set()
        self._mid_stream_gate = asyncio.Event()  # for Behaviour.wait_after: shut until release()
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def aclose(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> FakeUpstream:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    # -- knobs and recordings ------------------------------------------------------------------------------------

    def enqueue(self, *behaviours: Behaviour, model: str | None = None) -> None:
        """One-shot behaviours, consumed in order: for `model` only, or (None) for any model."""
        self._queues.setdefault(model, deque()).extend(behaviours)
        if model is not None:
            self._models[model] = None

    def set_default(self, behaviour: Behaviour, model: str | None = None) -> None:
        """The behaviour used when the queues are empty: for `model` only, or (None) for any model."""
        self._defaults[model] = behaviour
        if model is not None:
            self._models[model] = None

    def reset(self) -> None:
        """Forget queues, defaults, recordings and counters, and reseed the failure draws."""
        self._queues.clear()
        self._defaults.clear()
        self._models.clear()
        self.requests.clear()
        self.disconnects = 0
        self.request_count = 0
        self.connections_total = self.open_connections
        self.server_errors.clear()
        self._rng.seed(self.seed)

    def hold(self) -> None:
        """Generation requests wait after being recorded, until `release()` (a client going away ends the wait)."""
        self._gate.clear()
        self._mid_stream_gate.clear()

    def release(self) -> None:
        self._gate.set()
        self._mid_stream_gate.set()

    @staticmethod
    async def _pass(gate: asyncio.Event, conn: Connection) -> None:
        """Wait until `gate` opens; ClientGone when the client goes away first."""
        if gate.is_set():
            return
        opened = asyncio.ensure_future(gate.wait())
        gone = asyncio.ensure_future(conn.gone.wait())
        await asyncio.wait({opened, gone}, return_when=asyncio.FIRST_COMPLETED)
        opened.cancel()
        gone.cancel()
        if not gate.is_set():
            raise ClientGone

    async def wait_for_requests(self, n: int, timeout: float = 10.0) -> None:
        """Wait until `request_count >= n`; TimeoutError (with the count seen) otherwise."""
        try:
            async with asyncio.timeout(timeout):
                while self.request_count < n:
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            raise TimeoutError(f"expected {n} requests within {timeout}s, saw {self.request_count}") from None

    def requests_for(self, model: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.model == model]

    async def wait_for_disconnects(self, n: int, timeout: float = 5.0) -> None:
        """Wait until `disconnects >= n`; TimeoutError (with the count seen) otherwise."""
        try:
            async with asyncio.timeout(timeout):
                while self.disconnects < n:
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            raise TimeoutError(f"expected {n} client disconnects within {timeout}s, saw {self.disconnects}") from None

    def _behaviour_for(self, model: str) -> Behaviour:
        for key in (model, None):
            if queue := self._queues.get(key):
                behaviour = queue.popleft()
                break
        else:
            behaviour = self._defaults.get(model) or self._defaults.get(None) or Behaviour()
        if behaviour.faulty and 0 < behaviour.fail_ratio < 1 and self._rng.random() >= behaviour.fail_ratio:
            faults = {"cut_after": None, "stall_after": None, "malformed_after": None, "error_event_after": None}
            return replace(behaviour, status=200, **faults)
        return behaviour

    # -- serving ---------------------------------------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self.open_connections += 1
        self.connections_total += 1
        conn = Connection(reader, writer)
        try:
            while (request := await conn.read_request()) is not None:
                conn.keep_alive = request.keep_alive
                try:
                    keep_alive = await self._respond(conn, request)
                except ClientGone:
                    self.disconnects += 1
                    self._changed.set()
                    break
                if not (keep_alive and request.keep_alive):
                    break
        except asyncio.CancelledError:
            pass
        except Exception as err:  # a bug in the fake: keep it for the test to see
            self.server_errors.append(err)
        finally:
            self.open_connections -= 1
            self._handlers.discard(task)
            # Cancelled by aclose(): end normally, as a cancelled task here makes asyncio (3.11) log an error.
            with contextlib.suppress(asyncio.CancelledError):
                await conn.close()

    async def _respond(self, conn: Connection, request: Request) -> bool:
        """Answer one request; False when the connection must close afterwards."""
        path, _, query = request.target.partition("?")
        headers = request.headers
        api: Api = "anthropic" if path.startswith("/v1/messages") or "anthropic-version" in headers else "openai"
        try:
            parsed = json.loads(request.body) if request.body else {}
        except ValueError:
            parsed = None
        body: dict[str, Any] = parsed if isinstance(parsed, dict) else {}
        model = body.get("model")
        recorded = RecordedRequest(
            path=path,
            method=request.method,
            headers=dict(headers),
            body=body,
            model=model if isinstance(model, str) else "",
            stream=bool(body.get("stream")),
            api=api,
            received_at=time.monotonic(),
            query=query,
        )
        self.request_count += 1
        self._changed.set()
        if self.record:
            self.requests.append(recorded)
        wire = _WIRES[api]
        route = (request.method, path)
        if route == ("GET", "/v1/models"):
            return await self._send_json(conn, api, 200, wire.models(list(self._models), int(time.time())))
        if route == ("POST", "/v1/embeddings"):
            return await self._send_json(conn, api, 200, openai_wire.embeddings(body))
        if route not in {
            ("POST", "/v1/chat/completions"),
            ("POST", "/v1/messages"),
            ("POST", "/v1/messages/count_tokens"),
        }:
            error = wire.error_body(404, None, wire.not_found_message(request.method, path))
            return await self._send_json(conn, api, 404, error)
        if parsed is None or not isinstance(parsed, dict):
            return await self._send_json(conn, api, 400, wire.error_body(400, None, "The body is not a JSON object."))
        last_user, prompt_tokens = wire.parse_prompt(body)
        if path == "/v1/messages/count_tokens":
            return await self._send_json(conn, api, 200, {"input_tokens": prompt_tokens})

        behaviour = self._behaviour_for(recorded.model)
        await self._pass(self._gate, conn)
        await conn.pause(behaviour.delay)
        if behaviour.status != 200:
            message = behaviour.error_message
            if behaviour.echo_auth_in_error:
                auth = [headers[h] for h in ("authorization", "x-api-key") if h in headers]
                message = f"{message or 'Authentication failed.'} Credentials received: {' / '.join(auth)}"
            extra = {} if behaviour.retry_after is None else {"retry-after": f"{behaviour.retry_after:g}"}
            error = wire.error_body(behaviour.status, behaviour.error_type, message)
            return await self._send_json(conn, api, behaviour.status, error, extra)

        deltas = split_text(
            f"Hello! You said: {last_user}" if behaviour.text is None else behaviour.text, behaviour.chunks
        )
        stream_options = body.get("stream_options")
        answer = Answer(
            id=f"chatcmpl-fake{next(self._ids):06d}" if api == "openai" else f"msg_fake{next(self._ids):06d}",
            model=recorded.model,
            created=int(time.time()),
            deltas=deltas,
            finish_reason=behaviour.finish_reason,
            prompt_tokens=prompt_tokens if behaviour.prompt_tokens is None else behaviour.prompt_tokens,
            completion_tokens=len(deltas) if behaviour.completion_tokens is None else behaviour.completion_tokens,
            cached_tokens=behaviour.cached_tokens,
            include_usage=isinstance(stream_options, dict) and bool(stream_options.get("include_usage")),
            omit_usage=behaviour.omit_usage and api == "openai",
        )
        if not recorded.stream:
            render = openai_wire.completion if api == "openai" else anthropic_wire.message
            return await self._send_json(conn, api, 200, render(answer))
        return await self._stream(conn, api, wire, answer, behaviour)

    def _response_headers(self, api: Api) -> dict[str, str]:
        request_id = f"req_fake{next(self._ids):06d}"
        return {"x-request-id": request_id} if api == "openai" else {"request-id": request_id}

    async def _send_json(
        self, conn: Connection, api: Api, status: int, payload: dict[str, Any], extra: dict[str, str] | None = None
    ) -> bool:
        data = json.dumps(payload).encode()
        headers = {"content-type": "application/json", "content-length": str(len(data)), "connection": conn.connection}
        headers |= self._response_headers(api) | (extra or {})
        await conn.write(head(status, headers) + data)
        return True

    async def _stream(self, conn: Connection, api: Api, wire: Wire, answer: Answer, behaviour: Behaviour) -> bool:
        headers = {"content-type": "text/event-stream; charset=utf-8", "transfer-encoding": "chunked"}
        headers |= {"cache-control": "no-cache", "connection": conn.connection} | self._response_headers(api)

        def chunk(events: list[bytes]) -> bytes:
            data = b"".join(events)
            return f"{len(data):x}\r\n".encode() + data + b"\r\n"

        await conn.write(head(200, headers) + chunk(wire.stream_prelude(answer)))
        for sent in range(len(answer.deltas) + 1):
            if behaviour.cut_after is not None and sent >= behaviour.cut_after:
                return False  # the caller closes the connection: no terminating chunk, no closing events
            if behaviour.stall_after is not None and sent >= behaviour.stall_after:
                await conn.gone.wait()
                raise ClientGone
            if behaviour.malformed_after is not None and sent >= behaviour.malformed_after:
                await conn.write(chunk([wire.MALFORMED]) + b"0\r\n\r\n")
                return True
            if behaviour.error_event_after is not None and sent >= behaviour.error_event_after:
                error = wire.error_body(500, behaviour.error_type, behaviour.error_message)
                await conn.write(chunk([wire.stream_error(error)]) + b"0\r\n\r\n")
                return True
            if behaviour.wait_after is not None and sent == behaviour.wait_after:
                await self._pass(self._mid_stream_gate, conn)
            await conn.pause(behaviour.chunk_delay)
            if sent < len(answer.deltas):
                await conn.write(chunk([wire.stream_delta(answer, answer.deltas[sent])]))
        await conn.write(chunk(wire.stream_epilogue(answer)) + b"0\r\n\r\n")
        return True


# -- standalone process -----------------------------------------------------------------------------------------------


async def _serve(args: argparse.Namespace) -> None:
    fake = FakeUpstream(host=args.host, port=args.port, seed=args.seed, record=False)
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.upstream", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency-ms", type=float, default=0.0, help="delay before each response's headers")
    parser.add_argument("--stream-chunks", type=int, default=None, help="deltas per streamed answer")
    parser.add_argument("--chunk-delay-ms", type=float, default=0.0, help="pause before each streamed delta")
    parser.add_argument("--seed", type=int, default=0)
    asyncio.run(_serve(parser.parse_args(argv)))


if __name__ == "__main__":
    main()

"""The server's side of the template workers: a few child processes, one request each at a time.

The event loop only writes a frame and awaits the answer. A worker that does not answer within the
render limit (plus a grace second for its own deadline check to fire first) is killed and replaced; one
that dies (out of memory, a crash) is replaced too. Callers wait at most the render limit for a free
worker, then get RESOURCE_EXHAUSTED. A caller that goes away mid-render leaves the worker to finish
its (bounded) render before it serves anyone else, so answers never cross.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import json
import logging
import os
import subprocess
import sys
import time
from typing import Any

from orchestrator.errors import (
    FieldViolation,
    InvalidArgumentError,
    OrchestratorError,
    Reason,
    ResourceExhaustedError,
    UnavailableError,
    clip,
)
from orchestrator.templates.sandbox import RenderLimits
from orchestrator.templates.worker import HEADER, encode

log = logging.getLogger(__name__)

_START_SECONDS = 30.0
_GRACE_SECONDS = 1.0
# What a worker may report as the failure of a template (anything else is reported as a failed render).
_REASONS = frozenset(
    {
        Reason.INVALID_TEMPLATE,
        Reason.TEMPLATE_SYNTAX_ERROR,
        Reason.TEMPLATE_TOO_COMPLEX,
        Reason.TEMPLATE_RENDER_LIMIT,
        Reason.TEMPLATE_RENDER_FAILED,
        Reason.TEMPLATE_SECURITY_VIOLATION,
        Reason.TEMPLATE_VARIABLE_UNDEFINED,
    }
)


class _BrokenWorker(Exception):
    """The worker's answer was missing or malformed, or the worker died."""


class _Process:
    """One worker process. I/O is driven by event-loop callbacks on its pipes: no task, no thread per request."""

    def __init__(self, popen: subprocess.Popen[bytes], loop: asyncio.AbstractEventLoop) -> None:
        assert popen.stdin is not None and popen.stdout is not None
        self.popen = popen
        self.used = time.monotonic()
        self._loop = loop
        self._in, self._out = popen.stdin.fileno(), popen.stdout.fileno()
        os.set_blocking(self._in, False)
        os.set_blocking(self._out, False)
        self._buffer = bytearray()
        self._unsent = memoryview(b"")
        self._reply: asyncio.Future[dict[str, Any]] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._max_bytes = 0
        self._writing = False
        loop.add_reader(self._out, self._readable)  # for the worker's life: one epoll change per worker

    @classmethod
    async def spawn(cls, limits: RenderLimits) -> _Process:
        """A started worker process (not yet known to be ready: see `WorkerPool._start`)."""
        popen = await asyncio.to_thread(  # fork and exec take milliseconds: not on the event loop
            subprocess.Popen,
            [sys.executable, "-m", "orchestrator.templates.worker", json.dumps(dataclasses.asdict(limits))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            start_new_session=True,  # a terminal's Ctrl-C is for the server, which then closes the pipes
        )
        return cls(popen, asyncio.get_running_loop())

    def send(self, frame: bytes, timeout: float, max_bytes: int) -> asyncio.Future[dict[str, Any]]:
        """Write `frame`; the future gets the answer, or TimeoutError (the worker is then killed) or _BrokenWorker."""
        reply = self._reply = self._loop.create_future()
        self._max_bytes = max_bytes
        self._buffer.clear()
        self._timer = self._loop.call_later(timeout, self._expire)
        self._unsent = memoryview(frame)
        self._writable()  # may settle `reply` already (a worker that died while idle)
        return reply

    def _writable(self) -> None:
        try:
            sent = os.write(self._in, self._unsent) if self._unsent else 0
        except BlockingIOError:
            sent = 0
        except OSError as exc:
            self._fail(_BrokenWorker(f"write: {exc}"))
            return
        self._unsent = self._unsent[sent:]
        if self._unsent and not self._writing:  # a large frame: the rest when the pipe has room
            self._loop.add_writer(self._in, self._writable)
            self._writing = True
        elif not self._unsent and self._writing:
            self._loop.remove_writer(self._in)
            self._writing = False

    def _readable(self) -> None:
        try:
            chunk = os.read(self._out, 65536)
        except BlockingIOError:
            return
        except OSError as exc:
            self._fail(_BrokenWorker(f"read: {exc}"))
            return
        if not chunk:
            self._fail(_BrokenWorker(f"exited ({self.popen.poll()})"))
            return
        if self._reply is None:
            self._fail(_BrokenWorker("an answer nobody asked for"))
            return
        self._buffer += chunk
        if len(self._buffer) < HEADER.size:
            return
        (size,) = HEADER.unpack_from(self._buffer)
        if size > self._max_bytes:
            self._fail(_BrokenWorker(f"a {size}-byte answer"))
        elif len(self._buffer) >= HEADER.size + size:
            try:
                reply = json.loads(bytes(self._buffer[HEADER.size : HEADER.size + size]))
            except ValueError as exc:
                self._fail(_BrokenWorker(f"undecodable answer: {exc}"))
                return
            if isinstance(reply, dict):
                self._settle(lambda f: f.set_result(reply))
            else:
                self._fail(_BrokenWorker("an answer that is not an object"))

    def _expire(self) -> None:
        self._fail(TimeoutError())

    def _fail(self, exc: BaseException) -> None:
        self.kill()
        self._loop.remove_reader(self._out)  # nothing more to read from a killed worker
        self._settle(lambda f: f.set_exception(exc))

    def abort(self, why: str) -> None:
        """Kill the worker now; a pending answer fails with `why`."""
        self._fail(_BrokenWorker(why))

    def _settle(self, outcome: Any) -> None:
        if self._writing:
            self._loop.remove_writer(self._in)
            self._writing = False
        if self._timer is not None:
            self._timer.cancel()
        reply, self._reply = self._reply, None
        if reply is not None and not reply.done():
            outcome(reply)

    def kill(self) -> None:
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.popen.kill()

    async def close(self) -> None:
        """Ask the worker to exit (end of input); kill it if it does not; reap it."""
        self._loop.remove_reader(self._out)
        self._loop.remove_writer(self._in)
        # Through the file objects, which own the descriptors (closing the numbers would close them twice).
        assert self.popen.stdin is not None and self.popen.stdout is not None
        with contextlib.suppress(OSError):
            self.popen.stdin.close()
        try:
            await asyncio.to_thread(self.popen.wait, 2.0)
        except subprocess.TimeoutExpired:
            self.kill()
            await asyncio.to_thread(self.popen.wait)
        self.popen.stdout.close()


class WorkerPool:
    def __init__(self, limits: RenderLimits) -> None:
        self._limits = limits
        self._idle: list[_Process] = []
        self._busy: set[_Process] = set()
        self._slots = asyncio.Semaphore(limits.workers)
        self._background: set[asyncio.Task[Any]] = set()
        self._closed = False
        # Room for the longest text as JSON (escapes take up to 6 bytes a character) and the rest of the frame.
        self._max_reply = 6 * limits.max_output_chars + 65536

    async def check(self, key: str, source: str, field_name: str) -> frozenset[str]:
        """Compile in a worker; returns the variables the template reads. INVALID_ARGUMENT if it cannot."""
        reply = await self._call({"op": "check", "key": key, "source": source, "field": field_name}, field_name)
        variables = reply.get("variables")
        if not isinstance(variables, list) or not all(isinstance(v, str) for v in variables):
            raise self._broken(field_name, _BrokenWorker("no variables"))
        return frozenset(variables)

    async def render(self, key: str, source: str, field_name: str, values: dict[str, Any]) -> str:
        request = {"op": "render", "key": key, "source": source, "field": field_name, "values": values}
        text = (await self._call(request, field_name)).get("text")
        if not isinstance(text, str):
            raise self._broken(field_name, _BrokenWorker("no text"))
        return text

    async def _call(self, request: dict[str, Any], field_name: str) -> dict[str, Any]:
        if self._closed:
            raise _shutting_down()
        frame = encode(request)
        await self._acquire()
        try:
            worker = await self._checkout()
        except BaseException:
            self._slots.release()
            raise
        # The worker is busy until it has answered or been killed, even if our caller leaves.
        self._busy.add(worker)
        reply = worker.send(frame, self._limits.max_seconds + _GRACE_SECONDS, self._max_reply)
        reply.add_done_callback(functools.partial(self._finished, worker))
        try:
            answer = await asyncio.shield(reply)
        except TimeoutError:
            raise InvalidArgumentError(
                f"{field_name}: rendering took longer than {self._limits.max_seconds} s",
                reason=Reason.TEMPLATE_RENDER_LIMIT,
            ) from None
        except _BrokenWorker as exc:
            if self._closed:
                raise _shutting_down() from None
            raise self._broken(field_name, exc) from None
        error = answer.get("error")
        if error is not None:
            raise _error_from(error, field_name)
        return answer

    async def _acquire(self) -> None:
        if not self._slots.locked():
            await self._slots.acquire()
            return
        try:
            await asyncio.wait_for(self._slots.acquire(), self._limits.max_seconds)
        except TimeoutError:
            raise ResourceExhaustedError(
                "every template worker is busy; retry shortly",
                reason=Reason.OVERLOADED,
                retry_after=self._limits.max_seconds,
            ) from None

    def _finished(self, worker: _Process, reply: asyncio.Future[dict[str, Any]]) -> None:
        self._slots.release()
        self._busy.discard(worker)
        if reply.cancelled() or reply.exception() is not None or self._closed:
            self._in_background(worker.close())
            if not self._closed:
                self._in_background(self._spare())
            return
        worker.used = time.monotonic()
        self._idle.append(worker)

    async def _checkout(self) -> _Process:
        # Workers exit after `worker_idle_seconds` unused; one close to that is retired rather than raced.
        fresh_after = time.monotonic() - self._limits.worker_idle_seconds * 0.9
        while self._idle:
            worker = self._idle.pop()
            if worker.popen.poll() is None and worker.used > fresh_after:
                return worker
            self._in_background(worker.close())
        try:
            return await self._start()
        except (OSError, TimeoutError, _BrokenWorker) as exc:
            log.error("the template worker did not start: %s", exc)
            raise UnavailableError(
                "the template renderer is unavailable; retry later",
                reason=Reason.TEMPLATE_RENDERER_UNAVAILABLE,
                retry_after=1.0,
            ) from None

    async def _spare(self) -> None:
        """Replace a killed worker at once, so the next render does not wait for a start."""
        if len(self._idle) + len(self._busy) >= self._limits.workers:
            return
        with contextlib.suppress(OSError, TimeoutError, _BrokenWorker):
            worker = await self._start()
            if self._closed:
                await worker.close()
            else:
                self._idle.append(worker)

    async def _start(self) -> _Process:
        worker = await _Process.spawn(self._limits)
        try:
            ready = await worker.send(b"", _START_SECONDS, 1024)
            if ready.get("ready") is not True:
                raise _BrokenWorker("no ready message")
        except BaseException:
            worker.abort("did not start")
            self._in_background(worker.close())
            raise
        return worker

    def _in_background(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _broken(self, field_name: str, exc: BaseException) -> InvalidArgumentError:
        # Almost always the address-space limit (a MemoryError the worker could not even report) or a crash.
        log.warning("template worker failed: %s", exc)
        return InvalidArgumentError(
            f"{field_name}: rendering stopped the worker (memory limit of "
            f"{self._limits.max_memory_bytes // (1024 * 1024)} MiB, or a crash)",
            reason=Reason.TEMPLATE_RENDER_LIMIT,
        )

    async def aclose(self) -> None:
        self._closed = True
        for worker in list(self._busy):
            worker.abort("the server is shutting down")  # _finished then closes it
        idle, self._idle = self._idle, []
        await asyncio.gather(*(w.close() for w in idle), return_exceptions=True)
        while self._background:
            await asyncio.gather(*self._background, return_exceptions=True)


def _shutting_down() -> UnavailableError:
    return UnavailableError("the server is shutting down", reason=Reason.TEMPLATE_RENDERER_UNAVAILABLE)


def _error_from(error: Any, field_name: str) -> OrchestratorError:
    if not isinstance(error, dict):
        error = {}
    try:
        reason = Reason(error.get("reason"))
    except ValueError:
        reason = Reason.TEMPLATE_RENDER_FAILED
    if reason not in _REASONS:
        reason = Reason.TEMPLATE_RENDER_FAILED
    message = clip(str(error.get("message") or f"rendering {field_name} failed"), 1000)
    raw = error.get("violations")
    violations = [
        FieldViolation(clip(str(v[0]), 300), clip(str(v[1]), 1000))
        for v in (raw if isinstance(raw, list) else [])[:50]
        if isinstance(v, list) and len(v) == 2
    ]
    return InvalidArgumentError(message, reason=reason, field_violations=violations)

"""A pipelined Redis connection for the scripts every request runs (quota reserve and settle).

redis-py's asyncio client costs ~100 µs of CPU per command (connection pool, command object, pure-Python
reply parsing) and one connection per command in flight. Here commands are written back to back on one
connection and the replies, parsed by hiredis, are matched to callers in order: ~40 µs at c=1 and ~12 µs
per call at c=32 on the bench machine (bench/results; issue 12's auth + quota row). Fire-and-forget
commands (settlements) cost one write and no task.

A reply that does not come within the timeout, or a lost connection, fails every command in flight: the
connection is dropped, and the next command reconnects unless the last attempt failed within
`RECONNECT_BACKOFF_SECONDS` (an outage must not cost every request a connect timeout).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ssl
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import hiredis

# Commands in flight on the connection beyond which new ones are refused (RedisUnavailable): a Redis that
# accepts but never answers must not grow the queue without end.
MAX_IN_FLIGHT = 10_000
RECONNECT_BACKOFF_SECONDS = 1.0

Arg = str | bytes | int | float


class RedisUnavailable(ConnectionError):
    """Redis could not be reached, did not answer in time, or refused the command."""


@dataclass(frozen=True)
class Script:
    source: str
    sha: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sha", hashlib.sha1(self.source.encode()).hexdigest())


def _pack(parts: Sequence[Arg]) -> bytes:
    chunks = [b"*%d\r\n" % len(parts)]
    for part in parts:
        data = part if isinstance(part, bytes) else str(part).encode()
        chunks.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(chunks)


class _Connection(asyncio.Protocol):
    """Replies arrive in the order commands were written; `None` in the queue marks a fire-and-forget command."""

    def __init__(self, on_lost: Callable[[_Connection], None], on_error_reply: Callable[[Exception], None]) -> None:
        self._reader = hiredis.Reader()
        self.waiting: deque[asyncio.Future[Any] | None] = deque()
        self.transport: asyncio.Transport | None = None
        # Scripts this connection's Redis has seen (EVAL caches them): fire-and-forget sends use EVALSHA then.
        self.loaded: set[str] = set()
        self._on_lost = on_lost
        self._on_error_reply = on_error_reply

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self._reader.feed(data)
        while (reply := self._reader.gets()) is not False:
            waiter = self.waiting.popleft()
            if waiter is None:
                if isinstance(reply, hiredis.ReplyError):
                    if str(reply).startswith("NOSCRIPT"):  # SCRIPT FLUSH: EVAL again
                        self.loaded.clear()
                    self._on_error_reply(reply)
            elif not waiter.done():
                waiter.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        error = RedisUnavailable(f"connection lost: {exc}" if exc else "connection closed")
        while self.waiting:
            waiter = self.waiting.popleft()
            if waiter is not None and not waiter.done():
                waiter.set_exception(error)
        self._on_lost(self)

    def write(self, parts: Sequence[Arg], waiter: asyncio.Future[Any] | None) -> None:
        assert self.transport is not None
        self.waiting.append(waiter)
        self.transport.write(_pack(parts))

    def close(self) -> None:
        if self.transport is not None:
            self.transport.abort()


class RedisPipe:
    def __init__(
        self, url: str, timeout_seconds: float, on_failure: Callable[[str, BaseException], None] | None = None
    ) -> None:
        from redis.asyncio.connection import parse_url  # the one URL grammar, shared with redis-py's pool

        self._options = parse_url(url)
        self._timeout = timeout_seconds
        self._on_failure = on_failure
        self._connection: _Connection | None = None
        self._connecting: asyncio.Future[_Connection] | None = None
        self._down_until = 0.0
        self._closed = False
        self._background: set[asyncio.Task[None]] = set()

    async def run(self, script: Script, keys: Sequence[str], args: Sequence[Arg]) -> Any:
        """EVALSHA (EVAL once when Redis does not know the script); RedisUnavailable on any failure."""
        reply = await self._command(["EVALSHA", script.sha, len(keys), *keys, *args])
        if isinstance(reply, hiredis.ReplyError) and str(reply).startswith("NOSCRIPT"):
            reply = await self._command(["EVAL", script.source, len(keys), *keys, *args])
        if isinstance(reply, hiredis.ReplyError):
            raise RedisUnavailable(f"Redis refused the script: {reply}")
        if self._connection is not None:
            self._connection.loaded.add(script.sha)
        return reply

    def send(self, operation: str, script: Script, keys: Sequence[str], args: Sequence[Arg]) -> None:
        """Run `script` without waiting for its answer (failures are reported, not raised)."""
        connection = self._connection
        if connection is not None and connection.transport is not None and len(connection.waiting) < MAX_IN_FLIGHT:
            # EVALSHA only once this connection has seen the script: nobody waits to retry a NOSCRIPT.
            if script.sha in connection.loaded:
                connection.write(["EVALSHA", script.sha, len(keys), *keys, *args], None)
            else:
                connection.loaded.add(script.sha)
                connection.write(["EVAL", script.source, len(keys), *keys, *args], None)
            return
        parts: list[Arg] = ["EVAL", script.source, len(keys), *keys, *args]
        task = asyncio.get_running_loop().create_task(self._send_later(operation, parts))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _send_later(self, operation: str, parts: list[Arg]) -> None:
        try:
            await self._command(parts)
        except RedisUnavailable as exc:
            self._report(operation, exc)

    async def _command(self, parts: Sequence[Arg]) -> Any:
        connection = await self._connected()
        if len(connection.waiting) >= MAX_IN_FLIGHT:
            raise RedisUnavailable(f"{MAX_IN_FLIGHT} commands already wait for Redis")
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[Any] = loop.create_future()
        connection.write(parts, waiter)
        timer = loop.call_later(self._timeout, self._expire, connection, waiter)
        try:
            return await waiter
        finally:
            timer.cancel()

    def _expire(self, connection: _Connection, waiter: asyncio.Future[Any]) -> None:
        if not waiter.done():
            waiter.set_exception(RedisUnavailable(f"no answer from Redis within {self._timeout:g}s"))
            connection.close()  # every command behind it would wait as long: start again

    async def _connected(self) -> _Connection:
        connection = self._connection
        if connection is not None and connection.transport is not None:
            return connection
        if self._closed:
            raise RedisUnavailable("closed")
        if self._connecting is None:
            if time.monotonic() < self._down_until:
                raise RedisUnavailable("Redis was unreachable a moment ago")
            self._connecting = asyncio.get_running_loop().create_future()
            task = asyncio.get_running_loop().create_task(self._connect(self._connecting))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        return await asyncio.shield(self._connecting)

    async def _connect(self, result: asyncio.Future[_Connection]) -> None:
        loop = asyncio.get_running_loop()
        options = self._options
        connection = _Connection(self._lost, lambda error: self._report("redis_reply", error))
        try:
            async with asyncio.timeout(self._timeout):
                if "path" in options:
                    await loop.create_unix_connection(lambda: connection, options["path"])
                else:
                    host, port = options.get("host", "localhost"), options.get("port", 6379)
                    await loop.create_connection(lambda: connection, host, port, ssl=_tls(options))
                for command in _handshake(options):
                    waiter: asyncio.Future[Any] = loop.create_future()
                    connection.write(command, waiter)
                    reply = await waiter
                    if isinstance(reply, hiredis.ReplyError):
                        raise RedisUnavailable(f"{command[0]} refused: {reply}")
        except (OSError, TimeoutError, RedisUnavailable, ssl.SSLError) as exc:
            connection.close()
            self._down_until = time.monotonic() + RECONNECT_BACKOFF_SECONDS
            self._connecting = None
            result.set_exception(exc if isinstance(exc, RedisUnavailable) else RedisUnavailable(str(exc) or repr(exc)))
            result.exception()  # retrieved: nobody may be waiting
            return
        self._connection = connection
        self._connecting = None
        result.set_result(connection)

    def _lost(self, connection: _Connection) -> None:
        if self._connection is connection:
            self._connection = None

    def _report(self, operation: str, exc: BaseException) -> None:
        if self._on_failure is not None:
            self._on_failure(operation, exc)

    async def aclose(self) -> None:
        """Let commands already written finish (at most the timeout), then close."""
        self._closed = True
        if self._background:
            await asyncio.wait(self._background, timeout=self._timeout)
        connection = self._connection
        if connection is not None and connection.transport is not None and connection.waiting:
            ping: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            connection.write(["PING"], ping)  # answered after everything written before it
            with contextlib.suppress(TimeoutError, RedisUnavailable):
                await asyncio.wait_for(ping, self._timeout)
        if connection is not None:
            connection.close()


def _handshake(options: dict[str, Any]) -> list[list[Arg]]:
    commands: list[list[Arg]] = []
    if options.get("password") is not None:
        user = options.get("username")
        commands.append(["AUTH", user, options["password"]] if user else ["AUTH", options["password"]])
    if options.get("db"):
        commands.append(["SELECT", options["db"]])
    return commands


def _tls(options: dict[str, Any]) -> ssl.SSLContext | None:
    """rediss:// URLs: TLS with the system's CAs; `ssl_cert_reqs=none` in the URL turns verification off."""
    if options.get("connection_class") is None or "SSL" not in options["connection_class"].__name__:
        return None
    context = ssl.create_default_context(cafile=options.get("ssl_ca_certs"))
    if str(options.get("ssl_cert_reqs", "required")).lower() == "none":
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context

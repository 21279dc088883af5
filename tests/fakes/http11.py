"""HTTP/1.1 plumbing for the fake upstream: one buffered connection, request parsing, response heads."""

from __future__ import annotations

import asyncio
import contextlib
import http
from collections.abc import Callable
from dataclasses import dataclass

_MAX_HEAD = 64 * 1024


class ClientGone(Exception):
    """The client closed or reset the connection while a response was in progress."""


@dataclass
class Request:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes
    keep_alive: bool


class Connection:
    """A buffered view of one TCP connection; a pump task reads all the time, so a peer close is seen at once."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self.writer = writer
        self._buffer = bytearray()
        self._more = asyncio.Event()
        self.gone = asyncio.Event()
        self.keep_alive = True  # whether the request being answered lets the connection stay open
        self._pump_task = asyncio.create_task(self._pump())

    async def _pump(self) -> None:
        try:
            while data := await self._reader.read(65536):
                self._buffer += data
                self._more.set()
        except (ConnectionError, OSError):
            pass
        finally:
            self.gone.set()
            self._more.set()

    async def _fill(self, ready: Callable[[], bool]) -> bool:
        """Wait until `ready()`; False if the peer went away first."""
        while not ready():
            if self.gone.is_set():
                return False
            self._more.clear()
            await self._more.wait()
        return True

    async def _read_until(self, sep: bytes) -> bytes | None:
        if not await self._fill(lambda: sep in self._buffer or len(self._buffer) > _MAX_HEAD):
            return None
        end = self._buffer.find(sep)
        if end < 0:
            raise ValueError("request head too large")
        data = bytes(self._buffer[:end])
        del self._buffer[: end + len(sep)]
        return data

    async def _read_exactly(self, n: int) -> bytes | None:
        if not await self._fill(lambda: len(self._buffer) >= n):
            return None
        data = bytes(self._buffer[:n])
        del self._buffer[:n]
        return data

    async def read_request(self) -> Request | None:
        """The next request, or None when the peer closed the connection between requests."""
        head = await self._read_until(b"\r\n\r\n")
        while head == b"":  # tolerate stray CRLFs between requests
            head = await self._read_until(b"\r\n\r\n")
        if head is None:
            return None
        request_line, *lines = head.decode("latin-1").split("\r\n")
        method, target, version = request_line.split(" ", 2)
        headers: dict[str, str] = {}
        for line in lines:
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        body: bytes | None = b""
        if "chunked" in headers.get("transfer-encoding", "").lower():
            parts: list[bytes] = []
            while (size_line := await self._read_until(b"\r\n")) is not None:
                size = int(size_line.split(b";")[0], 16)
                if size == 0:
                    while await self._read_until(b"\r\n"):  # trailers, up to the blank line
                        pass
                    break
                if (part := await self._read_exactly(size + 2)) is None:
                    return None
                parts.append(part[:-2])
            body = b"".join(parts)
        elif (length := int(headers.get("content-length", "0"))) > 0:
            body = await self._read_exactly(length)
        if body is None:
            return None
        tokens = {t.strip().lower() for t in headers.get("connection", "").split(",")}
        keep_alive = "keep-alive" in tokens if version == "HTTP/1.0" else "close" not in tokens
        return Request(method, target, headers, body, keep_alive)

    @property
    def connection(self) -> str:
        """The `Connection` response header."""
        return "keep-alive" if self.keep_alive else "close"

    async def write(self, data: bytes) -> None:
        if self.gone.is_set():
            raise ClientGone
        try:
            self.writer.write(data)
            await self.writer.drain()
        except (ConnectionError, OSError) as err:
            raise ClientGone from err

    async def pause(self, seconds: float) -> None:
        """Sleep, but raise `ClientGone` as soon as the peer goes away."""
        if self.gone.is_set():
            raise ClientGone
        if seconds <= 0:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self.gone.wait()
                raise ClientGone

    async def close(self) -> None:
        self._pump_task.cancel()
        self.writer.close()
        with contextlib.suppress(Exception):
            await self.writer.wait_closed()
        with contextlib.suppress(asyncio.CancelledError):
            await self._pump_task


def head(status: int, headers: dict[str, str]) -> bytes:
    try:
        reason = http.HTTPStatus(status).phrase
    except ValueError:
        reason = "Overloaded" if status == 529 else "Error"
    lines = [f"HTTP/1.1 {status} {reason}", *(f"{k}: {v}" for k, v in headers.items()), "", ""]
    return "\r\n".join(lines).encode("latin-1")

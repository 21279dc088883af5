"""A raw HTTP/2 gRPC caller that stops reading: its stream windows start at `window` bytes (0: nothing may be sent
to it) and it grants no more until told to, as a hostile or wedged client would. It still answers pings and
records what arrives (headers, data, trailers, resets), so a test can see how the server ended each stream.

    async with SlowReader("127.0.0.1", port) as caller:
        stream = await caller.call("/orchestrator.v1.GenerationService/StreamGenerate", request)
        ...
        await caller.read_again(stream)   # open the window: what was queued arrives, then the trailers
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings


@dataclass
class CallerStream:
    stream_id: int
    headers: dict[str, str] = field(default_factory=dict)
    data: bytearray = field(default_factory=bytearray)
    trailers: dict[str, str] = field(default_factory=dict)
    reset: int | None = None  # the RST_STREAM error code
    ended: asyncio.Event = field(default_factory=asyncio.Event)


class SlowReader:
    def __init__(self, host: str, port: int, window: int = 0) -> None:
        self.host, self.port, self.window = host, port, window
        self.streams: dict[int, CallerStream] = {}
        self.goaway = asyncio.Event()  # the server said it is closing the connection
        self.closed_by_server = asyncio.Event()  # ... and closed it
        self._conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._pump: asyncio.Task[None] | None = None

    async def __aenter__(self) -> SlowReader:
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        self._conn.local_settings = h2.settings.Settings(
            client=True, initial_values={h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: self.window}
        )
        self._conn.initiate_connection()
        await self._flush()
        self._pump = asyncio.create_task(self._read_frames())
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()

    async def call(self, path: str, message: Any, timeout_seconds: float | None = None) -> CallerStream:
        """Start a unary-request call with `message` (a protobuf message); returns at once."""
        stream_id = self._conn.get_next_available_stream_id()
        headers = [
            (":method", "POST"),
            (":scheme", "http"),
            (":path", path),
            (":authority", f"{self.host}:{self.port}"),
            ("content-type", "application/grpc"),
            ("te", "trailers"),
        ]
        if timeout_seconds is not None:
            headers.append(("grpc-timeout", f"{int(timeout_seconds * 1000)}m"))
        payload = message.SerializeToString()
        self.streams[stream_id] = CallerStream(stream_id)
        self._conn.send_headers(stream_id, headers)
        self._conn.send_data(stream_id, b"\x00" + struct.pack(">I", len(payload)) + payload, end_stream=True)
        await self._flush()
        return self.streams[stream_id]

    async def read_again(self, stream: CallerStream, window: int = 1 << 24) -> None:
        """Grant the server `window` more bytes on this stream and on the connection."""
        self._conn.increment_flow_control_window(window, stream.stream_id)
        self._conn.increment_flow_control_window(window)
        await self._flush()

    async def _flush(self) -> None:
        assert self._writer is not None
        self._writer.write(self._conn.data_to_send())
        await self._writer.drain()

    async def _read_frames(self) -> None:
        assert self._reader is not None
        with contextlib.suppress(ConnectionError):
            while data := await self._reader.read(65536):
                if self.goaway.is_set():
                    continue  # after GOAWAY h2 refuses every frame; keep reading until the server closes
                try:
                    events = self._conn.receive_data(data)
                except h2.exceptions.ProtocolError:
                    # Frames after a GOAWAY in the same read: h2 has closed the connection on the GOAWAY.
                    self.goaway.set()
                    continue
                for event in events:
                    self._record(event)
                await self._flush()  # ping acks and settings acks; never a window update
        self.closed_by_server.set()
        for stream in self.streams.values():
            stream.ended.set()

    def _record(self, event: h2.events.Event) -> None:
        stream = self.streams.get(getattr(event, "stream_id", 0) or 0)
        if isinstance(event, h2.events.ConnectionTerminated):
            self.goaway.set()
        if stream is None:
            return
        if isinstance(event, h2.events.ResponseReceived):
            stream.headers = dict(event.headers)  # type: ignore[arg-type]
        elif isinstance(event, h2.events.DataReceived):
            stream.data += event.data
        elif isinstance(event, h2.events.TrailersReceived):
            stream.trailers = dict(event.headers)  # type: ignore[arg-type]
            stream.ended.set()
        elif isinstance(event, h2.events.StreamReset):
            stream.reset = event.error_code
            stream.ended.set()

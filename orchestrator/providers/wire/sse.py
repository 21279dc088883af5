"""Server-sent events read straight from the response's bytes: `event:` and `data:` lines, a blank line ends an event.

Per event it allocates only the data slice that the JSON decoder reads (and the event name when there is one);
lines are found in the chunks the socket gave, without a line iterator or text decoding. `id:`, `retry:` and
comment lines are ignored, as both APIs' SDKs do; an event the stream ends in the middle of is dropped (the SSE
specification's rule). Lines end with LF or CRLF (neither API sends a lone CR).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

_DATA = b"data:"
_EVENT = b"event:"
_CR = 13
_SPACE = 32


async def sse_events(read: Callable[[], Awaitable[bytes]]) -> AsyncIterator[tuple[bytes | None, bytes]]:
    """(event name or None, data) per event; `read` returns the next bytes available, b"" at the end."""
    pending = b""
    event: bytes | None = None
    data: bytes | None = None
    while chunk := await read():
        if pending:
            chunk = pending + chunk
        start = 0
        while (end := chunk.find(b"\n", start)) != -1:
            stop = end - 1 if end > start and chunk[end - 1] == _CR else end
            if stop == start:
                if data is not None:
                    yield event, data
                event = data = None
            elif chunk.startswith(_DATA, start):
                value = start + 5
                if value < stop and chunk[value] == _SPACE:
                    value += 1
                data = chunk[value:stop] if data is None else data + b"\n" + chunk[value:stop]
            elif chunk.startswith(_EVENT, start):
                event = chunk[start + 6 : stop].strip()
            start = end + 1
        pending = chunk[start:] if start < len(chunk) else b""

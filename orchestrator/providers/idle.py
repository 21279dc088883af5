"""Time a request spends in our own queue is not time the upstream was idle.

The router times the wait for a stream's events (`stream_idle_timeout_seconds`) and lends that timer to the
provider through `lent_timeout`; a provider that queues work (the embedded model) runs its queue wait inside
`paused()`: the timer stops while the request waits for a slot and resumes, with the time it had left,
when the work starts. Outside a watched wait both are no-ops.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextvars import ContextVar

_timer: ContextVar[asyncio.Timeout | None] = ContextVar("idle_timer", default=None)


@contextlib.asynccontextmanager
async def lent_timeout(seconds: float | None) -> AsyncIterator[asyncio.Timeout]:
    """`asyncio.timeout(seconds)`, lent to the provider called inside it."""
    async with asyncio.timeout(seconds) as timer:
        token = _timer.set(timer)
        try:
            yield timer
        finally:
            _timer.reset(token)


class Pause:
    """Stops the watching timer until `resume()` (or the end of the `with` block)."""

    def __init__(self) -> None:
        self._timer = _timer.get()
        self._left: float | None = None
        when = self._timer.when() if self._timer is not None else None
        if self._timer is not None and when is not None and not self._timer.expired():
            loop = asyncio.get_running_loop()
            self._left = max(when - loop.time(), 0.0)
            self._timer.reschedule(None)

    def resume(self) -> None:
        if self._timer is not None and self._left is not None and not self._timer.expired():
            self._timer.reschedule(asyncio.get_running_loop().time() + self._left)
        self._left = None

    def __enter__(self) -> Pause:
        return self

    def __exit__(self, *_: object) -> None:
        self.resume()


def paused() -> Pause:
    return Pause()

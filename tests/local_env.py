"""Shared by the embedded-model tests: schemas no grammar can express, a wedged scheduler, polling."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Awaitable, Callable, Iterator

from orchestrator.providers.local.scheduler import Scheduler

BAD_SCHEMAS = {
    "self reference": {"$ref": "#"},
    "reference loop": {"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"},
    "allOf over strings": {"allOf": [{"type": "string"}, {"minLength": 2}]},
    "whole-schema recursion": {"type": "object", "properties": {"child": {"$ref": "#"}}},
    "huge repetition": {"type": "array", "items": {"type": "integer"}, "minItems": 100_000_000},
}


@contextlib.contextmanager
def wedged(scheduler: Scheduler) -> Iterator[None]:
    """No decode step can run while this holds the context lock (as if llama_decode never returned)."""
    scheduler.context_lock.acquire()
    try:
        yield
    finally:
        scheduler.context_lock.release()


async def until(condition: Callable[[], Awaitable[bool] | bool]) -> None:
    """Polls a condition the scheduler thread changes (it has no event to wait on); the test timeout bounds it."""
    for _ in itertools.count():
        done = condition()
        if done if isinstance(done, bool) else await done:
            return
        await asyncio.sleep(0.05)

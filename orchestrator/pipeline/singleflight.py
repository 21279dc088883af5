"""Single-flight: identical cacheable requests in flight together make one upstream call.

The first request for a key leads: it calls the model (or, with a shared board, follows the replica that
holds the key's lease) and appends every event of the answer (start, deltas, final) to the key's Flight; the
others follow the Flight from its first event, each within its own deadline, so a stream that joins late
still receives every delta. A follower that goes away changes nothing for the leader. A leader that fails
gives every follower the same error (no second storm). A leader that stops without an answer for reasons of
its own (its caller went away, its deadline passed, its budget is spent) abandons the flight: a follower
that has sent nothing yet leads in its place. Keys are response-cache keys: scoped per service already
(unless a task's cache is shared), so requests of different services never join.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from orchestrator.domain import GenerationResult
from orchestrator.errors import DeadlineExceededError, InternalError, OrchestratorError, Reason, UnavailableError
from orchestrator.pipeline.flight_events import ABANDONED, Event, decode_event, encode_error, encode_event, shared_error
from orchestrator.state.leases import RedisFlightBoard

# A leader failing for one of these failed for itself, not for the answer: its followers lead again.
PERSONAL_REASONS = frozenset({Reason.CANCELLED, Reason.DEADLINE_EXCEEDED, Reason.QUOTA_EXCEEDED})


class Abandoned(Exception):
    """The leader stopped without an answer, for reasons of its own."""


def _personal(exc: BaseException) -> bool:
    if isinstance(exc, OrchestratorError):
        return exc.reason in PERSONAL_REASONS
    return isinstance(exc, asyncio.CancelledError | GeneratorExit)


def _interrupted() -> UnavailableError:
    return UnavailableError(
        "the identical request this one joined stopped before its answer was complete; retry",
        reason=Reason.STREAM_INTERRUPTED,
    )


def _expired() -> DeadlineExceededError:
    return DeadlineExceededError(
        "the request's deadline passed while it waited for an identical request's answer",
        reason=Reason.DEADLINE_EXCEEDED,
    )


def _remaining(deadline: float | None) -> float | None:
    """Seconds left of this request's own deadline; DEADLINE_EXCEEDED when none are."""
    remaining = None if deadline is None else deadline - time.monotonic()
    if remaining is not None and remaining <= 0:
        raise _expired()
    return remaining


async def _wait(changed: asyncio.Event, deadline: float | None) -> None:
    """Until `changed` is set, or DEADLINE_EXCEEDED at this request's own deadline."""
    try:
        await asyncio.wait_for(changed.wait(), _remaining(deadline))
    except TimeoutError:
        raise _expired() from None


class Flight:
    """One answer in flight in this process: its events so far, then how it ended."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.done = False
        self.error: OrchestratorError | None = None
        self.abandoned = False
        self._changed = asyncio.Event()

    def _notify(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    def append(self, event: Event) -> None:
        self.events.append(event)
        self._notify()

    def end(self, exc: BaseException | None = None) -> None:
        self.done = True
        if exc is not None and _personal(exc):
            self.abandoned = True
        elif exc is not None:
            self.error = exc if isinstance(exc, OrchestratorError) else InternalError("the request failed")
        self._notify()

    async def follow(self, deadline: float | None) -> AsyncIterator[Event]:
        """Every event from the first, then the end: return, the leader's error, or Abandoned."""
        sent = 0
        while True:
            changed = self._changed
            while sent < len(self.events):
                sent += 1
                yield self.events[sent - 1]
            if self.done:
                if self.abandoned:
                    raise Abandoned
                if self.error is not None:
                    raise shared_error(self.error)
                return
            await _wait(changed, deadline)


@dataclass
class _Remote:
    finished: bool = False


class SingleFlight:
    def __init__(self, board: RedisFlightBoard | None = None, lease_seconds: float = 10.0) -> None:
        self._board = board
        self._lease = lease_seconds
        self._flights: dict[str, Flight] = {}
        self._background: set[asyncio.Task[None]] = set()
        # Requests of this process waiting for another request's answer right now (a gauge for operators).
        self.waiting = 0

    def in_flight(self, key: str) -> bool:
        return key in self._flights

    async def run(
        self, key: str, lead: Callable[[], AsyncIterator[Event]], deadline: float | None
    ) -> AsyncIterator[tuple[Event, bool]]:
        """The answer's events, each with True when another request's call produced it, False for our own."""
        while (flight := self._flights.get(key)) is not None:
            forwarded = False
            self.waiting += 1
            try:
                async with contextlib.aclosing(flight.follow(deadline)) as events:
                    async for event in events:
                        forwarded = True
                        yield event, True
                return
            except Abandoned:
                if forwarded:
                    raise _interrupted() from None
            finally:
                self.waiting -= 1
        flight = self._flights[key] = Flight()
        try:
            async with contextlib.aclosing(self._lead(key, flight, lead, deadline)) as events:
                async for item in events:
                    yield item
        except BaseException as exc:
            flight.end(exc)
            raise
        else:
            flight.end()
        finally:
            if self._flights.get(key) is flight:
                del self._flights[key]

    async def _lead(
        self, key: str, flight: Flight, lead: Callable[[], AsyncIterator[Event]], deadline: float | None
    ) -> AsyncIterator[tuple[Event, bool]]:
        board, flight_id = self._board, ""
        while board is not None:
            flight_id = uuid.uuid4().hex
            holder = await board.acquire(key, flight_id, self._lease)
            if holder is None:
                break  # the lease is ours (or Redis is unreachable: this process alone then)
            remote = _Remote()
            self.waiting += 1
            try:
                async with contextlib.aclosing(self._follow_remote(board, key, holder, deadline, remote)) as events:
                    async for event in events:
                        flight.append(event)
                        yield event, True
            finally:
                self.waiting -= 1
            if remote.finished:
                return
            if flight.events:
                raise _interrupted()
            # The other replica's leader went away before answering: lead, or follow whoever leads now.
        keeper = self._spawn(self._keep(board, key, flight_id)) if board is not None else None
        publisher = _Publisher(board, key, flight_id, self._spawn) if board is not None else None
        try:
            async with contextlib.aclosing(lead()) as events:
                async for event in events:
                    flight.append(event)
                    if publisher is not None:
                        publisher.put(encode_event(event))
                    yield event, False
        except BaseException as exc:
            if publisher is not None:
                publisher.put(ABANDONED if _personal(exc) else encode_error(exc))
            raise
        finally:
            if board is not None and publisher is not None and keeper is not None:
                # Off the caller's path (it may be cancelled): drain the events, then give the lease back.
                self._spawn(self._close(board, key, flight_id, keeper, publisher))

    async def _follow_remote(
        self, board: RedisFlightBoard, key: str, holder: str, deadline: float | None, remote: _Remote
    ) -> AsyncIterator[Event]:
        after = "0"
        while True:
            remaining = _remaining(deadline)
            entries = await board.read(key, holder, after, board.read_block_seconds if remaining is None else remaining)
            if entries is None:
                return  # Redis failing: this process leads on its own
            if not entries:
                if await board.holder(key) == holder:
                    continue
                # Released or expired: one more look for an answer published just before the release.
                entries = await board.read(key, holder, after, 0.001)
                if not entries:
                    return
            for entry_id, raw in entries:
                after = entry_id
                event = decode_event(raw)
                if event is None:
                    return  # abandoned by its leader
                if isinstance(event, OrchestratorError):
                    raise event
                yield event
                if isinstance(event, GenerationResult):
                    remote.finished = True
                    return

    async def _keep(self, board: RedisFlightBoard, key: str, flight_id: str) -> None:
        while True:
            await asyncio.sleep(self._lease / 3)
            await board.renew(key, flight_id, self._lease)

    async def _close(
        self, board: RedisFlightBoard, key: str, flight_id: str, keeper: asyncio.Task[None], publisher: _Publisher
    ) -> None:
        keeper.cancel()
        await publisher.close()
        await board.release(key, flight_id)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    async def aclose(self) -> None:
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)


class _Publisher:
    """Appends a leader's events to the board in order, in batches, without ever making the leader wait."""

    def __init__(
        self,
        board: RedisFlightBoard,
        key: str,
        flight_id: str,
        spawn: Callable[[Coroutine[Any, Any, None]], asyncio.Task[None]],
    ) -> None:
        self._board, self._key, self._flight = board, key, flight_id
        self._pending: list[bytes] = []
        self._wake = asyncio.Event()
        self._closed = False
        self._task = spawn(self._run())

    def put(self, event: bytes) -> None:
        self._pending.append(event)
        self._wake.set()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._pending = self._pending, []
            if batch:
                await self._board.publish(self._key, self._flight, batch)
            if self._closed and not self._pending:
                return

    async def close(self) -> None:
        self._closed = True
        self._wake.set()
        await self._task

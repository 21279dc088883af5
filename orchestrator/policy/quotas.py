"""Quotas: estimate, reserve, settle (TensorZero's habit). A call reserves its worst case against every limit
that applies before each upstream attempt, and settles with what it really used afterwards, so concurrent
calls can never overshoot a budget. Counters live in the shared Redis (one Lua script per reservation) or in
this process without one. While Redis is unreachable each process enforces `outage_limit_share` of every
limit on its own: spending stays bounded, and the outage is logged and metered by the shared state.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from orchestrator.domain import Caller
from orchestrator.errors import QuotaViolation, Reason, ResourceExhaustedError
from orchestrator.policy.counters import Booked, Counters, Entry, MemoryCounters
from orchestrator.policy.limits import Amounts, Limit, LimitTable

log = logging.getLogger(__name__)
# Seconds a window's counter outlives the window, so a late settlement still finds it.
TTL_SLACK_SECONDS = 120
# Settlements run after the answer has gone out; beyond this many pending, the next one is awaited.
MAX_PENDING_SETTLEMENTS = 10_000


@dataclass(frozen=True, slots=True)
class Reservation:
    limits: tuple[Limit, ...]
    keys: tuple[str, ...]
    amounts: Amounts
    counters: Counters


@dataclass(frozen=True, slots=True)
class LimitUsage:
    limit: Limit
    used: float
    reset_at: float  # epoch seconds


class QuotaBook:
    def __init__(
        self,
        limits: LimitTable,
        counters: Counters | None = None,
        outage_share: float = 0.25,
        on_usage: Callable[[str, str, float], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._limits = limits
        self._counters: Counters = counters or MemoryCounters()
        # Used only while `counters` (Redis) is unreachable.
        self._fallback = MemoryCounters()
        self._share = outage_share
        self._on_usage = on_usage
        self._clock = clock
        self._pending: set[asyncio.Task[None]] = set()

    def spend(self, caller: Caller, task_type: str) -> RequestSpend | None:
        """The per-request guard the router books through; None when no limit applies."""
        limits = self._limits.for_call(caller.service, task_type)
        return RequestSpend(self, limits) if limits else None

    async def reserve(self, limits: tuple[Limit, ...], amounts: Amounts) -> Reservation:
        """Book `amounts` against every limit, all or nothing; RESOURCE_EXHAUSTED naming the limit otherwise."""
        now = self._clock()
        counters = [limit.counter(now) for limit in limits]
        entries = [
            Entry(key, amounts.of(limit.unit), limit.maximum, math.ceil(end - now) + TTL_SLACK_SECONDS)
            for limit, (key, end) in zip(limits, counters, strict=True)
        ]
        store: Counters = self._counters
        booked = await store.reserve(entries)
        if booked is None:  # Redis unreachable: this process's share of every limit, on its own
            store = self._fallback
            local = [Entry(e.key, e.amount, e.maximum * self._share, e.ttl_seconds) for e in entries]
            booked = await store.reserve(local)
            assert booked is not None
        self._report(limits, booked)
        if not booked.ok:
            limit = limits[booked.failed]
            raise _exceeded(limit, booked.used[booked.failed], entries[booked.failed], counters[booked.failed][1], now)
        return Reservation(limits, tuple(e.key for e in entries), amounts, store)

    def settle(self, reservation: Reservation, used: Amounts) -> None:
        """Return what the call did not use (or add what it used beyond its reservation), off the hot path."""
        deltas = [
            (key, used.of(limit.unit) - reservation.amounts.of(limit.unit))
            for limit, key in zip(reservation.limits, reservation.keys, strict=True)
        ]
        deltas = [(key, delta) for key, delta in deltas if delta]
        if not deltas:
            return
        task = asyncio.get_running_loop().create_task(reservation.counters.adjust(deltas))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def usage(self, service: str) -> list[LimitUsage]:
        limits = self._limits.for_service(service)
        now = self._clock()
        counters = [limit.counter(now) for limit in limits]
        keys = [key for key, _ in counters]
        values = await self._counters.read(keys) if keys else []
        if values is None:
            values = await self._fallback.read(keys)
        return [LimitUsage(limit, value, end) for limit, value, (_, end) in zip(limits, values, counters, strict=True)]

    async def aclose(self) -> None:
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)

    def _report(self, limits: tuple[Limit, ...], booked: Booked) -> None:
        if self._on_usage is not None:
            for limit, used in zip(limits, booked.used, strict=True):
                self._on_usage(limit.subject, limit.name, used / limit.maximum)


class RequestSpend:
    """One request's bookings: the request itself once, then each upstream attempt's worst case, settled after."""

    def __init__(self, book: QuotaBook, limits: tuple[Limit, ...]) -> None:
        self._book = book
        self._limits = limits
        self._request_counted = False

    def _amounts(self, tokens: float = 0.0, cost: float = 0.0) -> Amounts:
        requests = 0.0 if self._request_counted else 1.0
        return Amounts(requests, tokens, cost)

    async def count_request(self) -> None:
        """A call answered without a model (a cache hit): a request, but no tokens."""
        if not self._request_counted:
            await self._book.reserve(self._limits, self._amounts())
            self._request_counted = True

    async def reserve(self, tokens: int, cost: float) -> Reservation:
        reservation = await self._book.reserve(self._limits, self._amounts(tokens, cost))
        self._request_counted = True
        return reservation

    def settle(self, reservation: object, tokens: int, cost: float) -> None:
        assert isinstance(reservation, Reservation)
        self._book.settle(reservation, Amounts(reservation.amounts.requests, tokens, cost))


def _exceeded(limit: Limit, used: float, entry: Entry, window_end: float, now: float) -> ResourceExhaustedError:
    subject_kind, _, subject = limit.subject.partition(":")
    whose = f"service {subject!r}" if subject_kind == "service" else f"task type {subject!r}"
    maximum = entry.maximum
    if entry.amount > maximum:
        message = (
            f"{whose} has a {limit.name} of {_number(maximum)}; this request alone may need {_number(entry.amount)}"
            " (lower max_output_tokens or shorten the prompt)"
        )
        retry_after = None  # waiting does not help
    else:
        message = (
            f"{whose} has used {_number(used)} of its {limit.name} of {_number(maximum)}; this request may need "
            f"up to {_number(entry.amount)}"
        )
        retry_after = max(window_end - now, 0.0)
    return ResourceExhaustedError(
        message,
        reason=Reason.QUOTA_EXCEEDED,
        retry_after=retry_after,
        quota_violations=[QuotaViolation(limit.subject, f"{limit.name}: {maximum:g}")],
        metadata={"subject": limit.subject, "limit": limit.name},
    )


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.4f}"

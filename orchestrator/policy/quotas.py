"""Quotas: estimate, reserve, settle (TensorZero's habit). A call reserves its worst case against every limit
that applies before each upstream attempt, and settles with what it really used afterwards, so concurrent
calls can never overshoot a budget. Counters live in the shared Redis (one Lua script per booking, most
bookings served from a lease of budget the process took with an earlier one: redis_counters.py) or in this
process without one. While Redis is unreachable each process enforces `outage_limit_share` of every limit on
its own (beyond the leases it holds): spending stays bounded, and the outage is logged and metered.
"""

from __future__ import annotations

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
# (service, task type) pairs whose limits are remembered; task types come from requests.
MAX_LIMIT_SETS = 10_000


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


class LimitSet:
    """The limits one (service, task type) books against, and their counters for the current windows.

    Counter keys change only when a window rolls over, so they are worked out then, not on every call.
    """

    __slots__ = ("_ends", "_keys", "_until", "limits", "maxima", "units")

    def __init__(self, limits: tuple[Limit, ...]) -> None:
        self.limits = limits
        self.units = tuple(limit.unit for limit in limits)
        self.maxima = tuple(limit.maximum for limit in limits)
        self._until = -math.inf
        self._keys: tuple[str, ...] = ()
        self._ends: tuple[float, ...] = ()

    def counters(self, now: float) -> tuple[tuple[str, ...], tuple[float, ...]]:
        """Each limit's counter key for the window `now` falls in, and when that window ends."""
        if now >= self._until:
            counters = [limit.counter(now) for limit in self.limits]
            self._keys = tuple(key for key, _ in counters)
            self._ends = tuple(end for _, end in counters)
            self._until = min(self._ends)
        return self._keys, self._ends


class QuotaBook:
    def __init__(
        self,
        limits: LimitTable,
        counters: Counters | None = None,
        outage_share: float = 0.25,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._limits = limits
        self._counters: Counters = counters or MemoryCounters()
        # Used only while `counters` (Redis) is unreachable.
        self._fallback = MemoryCounters()
        self._share = outage_share
        self._clock = clock
        self._sets: dict[tuple[str, str], LimitSet | None] = {}
        # (subject, limit name) -> share used at its last booking; metrics read it when scraped.
        self._ratios: dict[tuple[str, str], float] = {}

    def spend(self, caller: Caller, task_type: str) -> RequestSpend | None:
        """The per-request guard the router books through; None when no limit applies."""
        which = (caller.service, task_type)
        try:
            limit_set = self._sets[which]
        except KeyError:  # task types come from requests: only configured ones are remembered
            limits = self._limits.for_call(*which)
            limit_set = LimitSet(limits) if limits else None
            if len(self._sets) < MAX_LIMIT_SETS:
                self._sets[which] = limit_set
        return RequestSpend(self, limit_set) if limit_set is not None else None

    def ratios(self) -> list[tuple[str, str, float]]:
        """(subject, limit name, share used at the last booking), for the quota gauges."""
        return [(subject, name, ratio) for (subject, name), ratio in self._ratios.items()]

    async def reserve(self, limit_set: LimitSet, amounts: Amounts) -> Reservation:
        """Book `amounts` against every limit, all or nothing; RESOURCE_EXHAUSTED naming the limit otherwise."""
        now = self._clock()
        keys, ends = limit_set.counters(now)
        entries = [
            Entry(key, amounts.of(unit), maximum, math.ceil(end - now) + TTL_SLACK_SECONDS)
            for key, end, unit, maximum in zip(keys, ends, limit_set.units, limit_set.maxima, strict=True)
        ]
        limits = limit_set.limits
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
            raise _exceeded(limit, booked.used[booked.failed], entries[booked.failed], ends[booked.failed], now)
        return Reservation(limits, keys, amounts, store)

    def settle(self, reservation: Reservation, used: Amounts) -> None:
        """Return what the call did not use (or add what it used beyond its reservation), off the hot path."""
        deltas = [
            (key, used.of(limit.unit) - reservation.amounts.of(limit.unit))
            for limit, key in zip(reservation.limits, reservation.keys, strict=True)
        ]
        deltas = [(key, delta) for key, delta in deltas if delta]
        if deltas:
            reservation.counters.adjust(deltas)

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
        """Send the settlements still owed (before the shared state closes)."""
        await self._counters.aclose()

    def _report(self, limits: tuple[Limit, ...], booked: Booked) -> None:
        ratios = self._ratios
        for limit, used in zip(limits, booked.used, strict=True):
            ratios[limit.subject, limit.name] = used / limit.maximum


class RequestSpend:
    """One request's bookings: the request itself once, then each upstream attempt's worst case, settled after."""

    def __init__(self, book: QuotaBook, limits: LimitSet) -> None:
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

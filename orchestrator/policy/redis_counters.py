"""Quota counters every replica shares, in Redis, booked ahead in small leases.

Every booking is one Lua script (check every limit, book all or nothing), so no replica can overshoot a limit.
A request would pay for that with a Redis round trip; instead each reservation that goes to Redis also takes
a lease of budget for this process (at most `LEASE_FRACTION` of the limit, and at most an eighth of what is
left of it, so leases shrink to nothing as a budget runs out). The lease is booked in Redis like any use, so
the fleet still never goes over; later reservations that fit in the process's leases are booked here without
a round trip. Leases come back to Redis when the process has booked nothing for `LEASE_IDLE_SECONDS`, when
one of their budgets refuses it, before usage is read, and at close: until then a budget shows as used up to
1% more per process (the refusal message's figure says so), never less.

Settlements (what a call did not use goes back to Redis, never to the lease, so no process sits on budget
that others are refused) are merged per counter and ride with the next script, or go alone after
`SETTLE_DELAY_SECONDS`.
"""

from __future__ import annotations

import asyncio

from orchestrator.policy.counters import Booked, Entry
from orchestrator.state.redis import SharedRedis
from orchestrator.state.redis_pipe import Arg, Script

LEASE_FRACTION = 0.01
LEASE_IDLE_SECONDS = 1.0
SETTLE_DELAY_SECONDS = 0.02
MAX_SEEN = 1_000

# KEYS: the n counters to book on, then counters owed a settlement only. ARGV: n; per counter to book:
# amount, maximum, ttl, owed settlement, lease wanted; per counter owed only: its settlement. A settlement
# applies only to a window that still exists (never below 0); then the amounts are checked and booked, all or
# nothing, each with its lease (whole units for whole amounts: requests and tokens; fractions of a unit held
# by several processes could not be pooled). One MGET and one SET per changed counter (each redis.call costs).
# Returns {0, used..., leases...} or {failed index, used before...}.
_BOOK = Script("""
local n = tonumber(ARGV[1])
local found = redis.call('MGET', unpack(KEYS))
local used = {}
for i = 1, #KEYS do
  used[i] = tonumber(found[i] or '0')
  if found[i] then
    local owed = tonumber(i <= n and ARGV[5 * i] or ARGV[4 * n + 1 + i])
    used[i] = math.max(used[i] + owed, 0)
  end
end
local failed = 0
for i = 1, n do
  local amount = tonumber(ARGV[5 * i - 3])
  if amount > 0 and used[i] + amount > tonumber(ARGV[5 * i - 2]) then
    failed = i
    break
  end
end
local out = {tostring(failed)}
for i = 1, #KEYS do
  local value = used[i]
  local lease = 0
  if failed == 0 and i <= n then
    local amount = tonumber(ARGV[5 * i - 3])
    value = value + amount
    lease = math.max(math.min(tonumber(ARGV[5 * i + 1]), (tonumber(ARGV[5 * i - 2]) - value) / 8), 0)
    if amount == math.floor(amount) then lease = math.floor(lease) end
    value = value + lease
  end
  if found[i] and value ~= tonumber(found[i]) then
    redis.call('SET', KEYS[i], string.format('%.17g', value), 'KEEPTTL')
  elseif not found[i] and value ~= 0 then
    redis.call('SET', KEYS[i], string.format('%.17g', value), 'EX', ARGV[5 * i - 1])
  end
  if i <= n then
    out[i + 1] = string.format('%.17g', failed == 0 and value or used[i])
    out[n + i + 1] = string.format('%.17g', lease)
  end
end
return out
""")
# KEYS: counters to read (a script, so that it runs after the settlements written before it).
_READ = Script("return redis.call('MGET', unpack(KEYS))")
_FAILED = object()


class RedisCounters:
    def __init__(
        self,
        shared: SharedRedis,
        settle_delay: float = SETTLE_DELAY_SECONDS,
        lease_fraction: float = LEASE_FRACTION,
        lease_idle_seconds: float = LEASE_IDLE_SECONDS,
    ) -> None:
        self._shared = shared
        self._prefix = shared.key_prefix + "quota:"
        self._settle_delay = settle_delay
        self._lease_fraction = lease_fraction
        self._lease_idle = lease_idle_seconds
        self._owed: dict[str, float] = {}  # counter -> settlement not yet sent
        self._leases: dict[str, float] = {}  # counter -> booked in Redis, not yet given to a request
        self._seen: dict[str, float] = {}  # counter -> its value at the last booking (for the gauges)
        self._flush_timer: asyncio.TimerHandle | None = None
        self._idle_timer: asyncio.TimerHandle | None = None
        self._booked_lately = False

    async def reserve(self, entries: list[Entry]) -> Booked | None:
        keys = [self._prefix + e.key for e in entries]
        leases = self._leases
        self._booked_lately = True
        if all(e.amount <= leases.get(key, 0.0) for key, e in zip(keys, entries, strict=True)):
            for key, e in zip(keys, entries, strict=True):
                if e.amount:
                    leases[key] -= e.amount
            return Booked(True, tuple(self._seen.get(key, 0.0) for key in keys))
        # What the leases cover is taken from them now (other calls may book meanwhile); Redis books the rest.
        taken = [min(leases.get(key, 0.0), e.amount) for key, e in zip(keys, entries, strict=True)]
        args: list[Arg] = [len(entries)]
        for key, e, lease in zip(keys, entries, taken, strict=True):
            if lease:
                leases[key] -= lease
            wanted = e.maximum * self._lease_fraction
            args += (repr(e.amount - lease), repr(e.maximum), e.ttl_seconds, repr(self._owed.pop(key, 0.0)), wanted)
        owed_only, self._owed = self._owed, {}
        keys_sent = keys + list(owed_only)
        result = await self._shared.script(
            "quota_reserve", _BOOK, keys_sent, args + [repr(v) for v in owed_only.values()], _FAILED
        )
        if result is _FAILED or int(result[0]) != 0:  # type: ignore[index]
            for key, lease in zip(keys, taken, strict=True):
                if lease:
                    leases[key] = leases.get(key, 0.0) + lease
            if result is _FAILED:
                return None
            # Refused: what this process still holds of these budgets goes back, for whoever can use it.
            self._give_back(keys)
        n = len(entries)
        used = tuple(float(v) for v in result[1 : n + 1])  # type: ignore[index]
        failed = int(result[0])  # type: ignore[index]
        if failed:
            return Booked(False, used, failed - 1)
        for key, value, lease in zip(keys, used, result[n + 1 : 2 * n + 1], strict=True):  # type: ignore[index]
            self._seen[key] = value
            if granted := float(lease):
                leases[key] = leases.get(key, 0.0) + granted
        self._watch_leases()
        return Booked(True, used)

    def adjust(self, deltas: list[tuple[str, float]]) -> None:
        """Unused budget is owed back to Redis, where every process sees it (kept in a lease, it could be
        stranded in this process while others are refused); use beyond the reservation comes from the lease,
        or is owed to Redis."""
        leases, owed = self._leases, self._owed
        for key, delta in deltas:
            full = self._prefix + key
            if delta < 0:
                owed[full] = owed.get(full, 0.0) + delta
                continue
            covered = min(leases.get(full, 0.0), delta)
            if covered:
                leases[full] -= covered
            if delta > covered:
                owed[full] = owed.get(full, 0.0) + delta - covered
        self._schedule_flush()
        self._watch_leases()

    def flush(self) -> None:
        """Send what is owed now (the timer, a read, closing)."""
        if self._flush_timer is not None:
            self._flush_timer.cancel()
            self._flush_timer = None
        if self._owed:
            owed, self._owed = self._owed, {}
            self._shared.send_script("quota_settle", _BOOK, list(owed), [0, *map(repr, owed.values())])

    def give_back(self) -> None:
        """Return every lease to Redis (owed as a negative settlement) and send it."""
        self._give_back(list(self._leases))
        self.flush()

    def _give_back(self, keys: list[str]) -> None:
        for key in keys:
            if lease := self._leases.pop(key, 0.0):
                self._owed[key] = self._owed.get(key, 0.0) - lease
        self._schedule_flush()

    def _schedule_flush(self) -> None:
        if self._owed and (self._flush_timer is None or self._flush_timer.cancelled()):
            self._flush_timer = asyncio.get_running_loop().call_later(self._settle_delay, self.flush)

    def _watch_leases(self) -> None:
        if self._leases and self._idle_timer is None:
            self._booked_lately = False
            self._idle_timer = asyncio.get_running_loop().call_later(self._lease_idle, self._idle_check)

    def _idle_check(self) -> None:
        self._idle_timer = None
        if not self._booked_lately:
            self.give_back()
        # Counters of windows gone by: their leases were used up (or given back); forget them.
        self._leases = {key: lease for key, lease in self._leases.items() if lease > 0}
        if len(self._seen) > MAX_SEEN:
            self._seen = {}
        self._watch_leases()

    async def read(self, keys: list[str]) -> list[float] | None:
        self.give_back()  # what is read is what was used
        values = await self._shared.script("quota_read", _READ, [self._prefix + key for key in keys], [], _FAILED)
        if values is _FAILED:
            return None
        return [float(v) if v is not None else 0.0 for v in values]  # type: ignore[union-attr]

    async def aclose(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
        self.give_back()

"""prometheus_client's metric classes with a look-up cache on `labels()`.

`labels()` checks its arguments, converts them and takes a lock on every call, ~1 µs, about fifteen times per
request. A child never changes once made (no series is ever removed here), so each tuple of label values is
looked up once and kept. Label values are bounded (see metrics.py), and so is the cache.
"""

from __future__ import annotations

from typing import Any

import prometheus_client

MAX_CACHED_CHILDREN = 10_000


class _CachedLabels:
    _labelvalues: tuple[str, ...]

    def labels(self, *values: Any, **by_name: Any) -> Any:
        if by_name or self._labelvalues:  # the rare forms, and the errors, stay prometheus_client's
            return super().labels(*values, **by_name)  # type: ignore[misc]
        cache: dict[tuple[Any, ...], Any] | None = self.__dict__.get("_children_by_values")
        if cache is None:
            cache = self.__dict__["_children_by_values"] = {}
        child = cache.get(values)
        if child is None:
            child = super().labels(*values)  # type: ignore[misc]
            if len(cache) < MAX_CACHED_CHILDREN:
                cache[values] = child
        return child


class Counter(_CachedLabels, prometheus_client.Counter):
    pass


class Gauge(_CachedLabels, prometheus_client.Gauge):
    pass


class Histogram(_CachedLabels, prometheus_client.Histogram):
    pass

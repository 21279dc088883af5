"""Series whose values are read from the running server (circuit states, queue lengths, running totals).

One mechanism for every such family: with one process a collector reads them when /metrics is scraped; with
worker processes (prometheus_client's multiprocess mode) every series lives in files, so `sync()` copies the
values into them, gauges as they are and running totals as the increase since the last copy (a counter there
only goes up).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from orchestrator.telemetry.families import Counter, Gauge


@dataclass(frozen=True)
class Family:
    name: str
    help: str
    labels: tuple[str, ...] = ()
    total: bool = False  # a running total (a counter); otherwise a gauge
    # With worker processes, how the workers' gauges combine (a total always adds up).
    multiprocess_mode: str = "livesum"


# What a read returns: each family's series as (family, label values, value).
Reading = Iterable[tuple[Family, tuple[str, ...], float]]


def watch(
    registry: CollectorRegistry,
    syncs: list[Callable[[], None]] | None,
    families: Iterable[Family],
    read: Callable[[], Reading],
) -> None:
    """Serve `families` from `read()`: at scrape time, or through `syncs` with worker processes (not None)."""
    families = tuple(families)
    if syncs is None:
        registry.register(_Collector(families, read))
        return
    series = {
        family: Counter(family.name, family.help, family.labels, registry=registry)
        if family.total
        else Gauge(
            family.name, family.help, family.labels, registry=registry, multiprocess_mode=family.multiprocess_mode
        )
        for family in families
    }
    booked: dict[tuple[Family, tuple[str, ...]], float] = {}

    def sync() -> None:
        for family, labels, value in read():
            child = series[family].labels(*labels) if labels else series[family]
            if not family.total:
                child.set(value)
            elif value > (before := booked.get((family, labels), 0.0)):
                child.inc(value - before)
                booked[family, labels] = value

    syncs.append(sync)


class _Collector(Collector):
    def __init__(self, families: tuple[Family, ...], read: Callable[[], Reading]) -> None:
        self._families = families
        self._read = read

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        found = {
            family: (CounterMetricFamily if family.total else GaugeMetricFamily)(
                family.name, family.help, labels=list(family.labels)
            )
            for family in self._families
        }
        for family, labels, value in self._read():
            found[family].add_metric(list(labels), value)
        yield from found.values()

"""Series read from the running server: the same values at scrape time (one process) and through sync()
(worker processes, where a running total may only be increased)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from prometheus_client import CollectorRegistry

from orchestrator.telemetry.callbacks import Family, Reading, watch

WAITING = Family("test_waiting", "Waiting now", ("queue",))
DONE = Family("test_done", "Done so far", ("queue",), total=True)


def served(read: Callable[[], Reading], synced: bool) -> tuple[CollectorRegistry, list[Callable[[], None]]]:
    registry, syncs = CollectorRegistry(), []
    watch(registry, syncs if synced else None, [WAITING, DONE], read)
    return registry, syncs


@pytest.mark.parametrize("synced", [False, True], ids=["at scrape time", "through sync"])
def test_gauges_show_the_last_reading_and_totals_the_running_total(synced: bool) -> None:
    readings = iter([(3, 10), (1, 25)])
    current: list[tuple[int, int]] = []

    def read() -> Reading:
        waiting, done = current[-1]
        return ((WAITING, ("a",), waiting), (DONE, ("a",), done))

    registry, syncs = served(read, synced)
    seen = []
    for _ in range(2):
        current.append(next(readings))
        for sync in syncs:
            sync()
        seen.append(
            (registry.get_sample_value("test_waiting", {"queue": "a"}),
             registry.get_sample_value("test_done_total", {"queue": "a"}))
        )  # fmt: skip

    assert seen == [(3, 10), (1, 25)]

"""Load shedding: at most `limit` generations in flight; the next one is refused at once."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from orchestrator.errors import QuotaViolation, Reason, ResourceExhaustedError


class Admission:
    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.in_flight = 0

    @contextlib.contextmanager
    def admit(self) -> Iterator[None]:
        if self.limit is not None and self.in_flight >= self.limit:
            raise ResourceExhaustedError(
                f"the server is at its limit of {self.limit} concurrent generations; retry shortly",
                reason=Reason.OVERLOADED,
                retry_after=1.0,
                quota_violations=[QuotaViolation("concurrent_requests", f"at most {self.limit} in flight")],
            )
        self.in_flight += 1
        try:
            yield
        finally:
            self.in_flight -= 1

"""GetUsage as a domain operation: a service's budgets and how much of each window is used."""

from __future__ import annotations

from orchestrator.domain import Caller
from orchestrator.errors import NotFoundError, Reason
from orchestrator.policy.authorization import check_usage_read
from orchestrator.policy.quotas import LimitUsage, QuotaBook


class UsageOperations:
    def __init__(self, quotas: QuotaBook, services: frozenset[str]) -> None:
        self._quotas = quotas
        self._services = services

    async def usage(self, caller: Caller, service: str) -> tuple[str, list[LimitUsage]]:
        """The caller's own usage (empty `service`); admins may read any configured service's."""
        service = service or caller.service
        check_usage_read(caller, service)
        if service not in self._services:
            raise NotFoundError(
                f"no service {service[:128]!r} is configured", reason=Reason.SERVICE_NOT_FOUND,
                metadata={"service": service[:128]},
            )  # fmt: skip
        return service, await self._quotas.usage(service)

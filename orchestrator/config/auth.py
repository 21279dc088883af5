"""Who may call, and how much: `auth` (services, their keys, rights and limits), `tasks.<t>.limits`, `server.tls`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from orchestrator.config.base import Strict

_DIGEST = re.compile(r"^[0-9a-f]{64}$")
_SERVICE_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
ANONYMOUS = "anonymous"


class LimitSettings(Strict):
    """Budgets over fixed windows (the minute, the UTC day); null: no limit of that kind."""

    requests_per_minute: int | None = Field(None, ge=1)
    tokens_per_minute: int | None = Field(None, ge=1)
    tokens_per_day: int | None = Field(None, ge=1)
    cost_usd_per_day: float | None = Field(None, gt=0)


class ServiceSettings(Strict):
    # The identity in metrics, logs, spans, usage and template ownership.
    name: str
    # SHA-256 hex digests of the service's keys (`orchestrator keys new` prints one); a list during rotation.
    key_sha256: tuple[str, ...] = ()
    # Admins manage every template and read every service's usage.
    admin: bool = False
    # "*" allows all; otherwise the task types / models (names or aliases) the service may use.
    task_types: tuple[str, ...] = ("*",)
    models: tuple[str, ...] = ("*",)
    limits: LimitSettings = LimitSettings()

    @field_validator("key_sha256", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return (value,) if isinstance(value, str) else value

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        if value == ANONYMOUS or not _SERVICE_NAME.match(value):
            raise ValueError(
                "must be 1-63 characters of a-z, 0-9, '_' or '-', starting with a letter, and not 'anonymous'"
            )
        return value

    @field_validator("key_sha256")
    @classmethod
    def _digests(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for digest in value:
            if not _DIGEST.match(digest):
                raise ValueError(f"{digest[:12]}… is not a SHA-256 hex digest (64 lowercase hex characters)")
        return value


class AuthSettings(Strict):
    # off: every caller is the service "anonymous" (make run); required: every call but health and
    # reflection must identify its service (a bearer key, or a client certificate with server.tls).
    mode: Literal["off", "required"] = "off"
    services: tuple[ServiceSettings, ...] = ()
    # While Redis (shared_state) is unreachable each process enforces this share of every limit on its
    # own, so spending stays bounded: set it near 1 / (replicas x worker processes).
    outage_limit_share: float = Field(0.25, gt=0, le=1)

    @model_validator(mode="after")
    def _unique(self) -> AuthSettings:
        problems = []
        names: set[str] = set()
        owners: dict[str, str] = {}
        for i, service in enumerate(self.services):
            if service.name in names:
                problems.append(f"services[{i}].name: {service.name!r} is listed twice")
            names.add(service.name)
            for digest in service.key_sha256:
                if digest in owners:
                    problems.append(f"services[{i}].key_sha256: the same key is already {owners[digest]!r}'s")
                owners[digest] = service.name
        if self.mode == "required" and not self.services:
            problems.append("services: mode required needs at least one service")
        if problems:
            raise ValueError("\n".join(problems))
        return self


class TlsSettings(Strict):
    cert_file: str
    key_file: str
    # Clients presenting a certificate signed by this CA are identified by its subject CN or a
    # spiffe://…/NAME URI SAN; without it clients are not asked for certificates.
    client_ca_file: str | None = None

    @model_validator(mode="after")
    def _files_exist(self) -> TlsSettings:
        missing = [
            name
            for name in ("cert_file", "key_file", "client_ca_file")
            if getattr(self, name) is not None and not Path(getattr(self, name)).is_file()
        ]
        if missing:
            raise ValueError("; ".join(f"{name}: {getattr(self, name)} is not a file" for name in missing))
        return self

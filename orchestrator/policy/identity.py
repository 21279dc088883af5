"""Who calls: a bearer key (`authorization: Bearer <key>`) or a client certificate, resolved to a Caller.

The transport extracts the credentials; this module decides. Keys are compared as SHA-256 digests only
(the configuration never holds a key), so a leaked configuration leaks no key.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from orchestrator.domain import Caller
from orchestrator.errors import Reason, UnauthenticatedError
from orchestrator.policy.keys import digest

BEARER = "bearer "
SPIFFE = "spiffe://"


@dataclass(frozen=True, slots=True)
class Credentials:
    """What a call presented: the authorization header's value, and the names on a verified client certificate."""

    authorization: str | None = None
    # Subject CN and URI SANs of a certificate the TLS layer verified against server.tls.client_ca_file.
    certificate_names: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ServiceIdentity:
    caller: Caller
    key_digests: tuple[str, ...]


class Authenticator:
    def __init__(self, required: bool, services: Iterable[ServiceIdentity]) -> None:
        self.required = required
        # With identity off every caller is the one service "anonymous": nobody to tell apart, nothing to deny.
        self._anonymous = Caller(admin=True)
        self._by_digest: dict[str, Caller] = {}
        self._by_name: dict[str, Caller] = {}
        for service in services:
            self._by_name[service.caller.service] = service.caller
            for key_digest in service.key_digests:
                self._by_digest[key_digest] = service.caller

    @property
    def anonymous(self) -> Caller:
        """Who every caller is while identity is off."""
        return self._anonymous

    @property
    def services(self) -> dict[str, Caller]:
        return dict(self._by_name)

    def authenticate(self, credentials: Credentials) -> Caller:
        """The calling service; UNAUTHENTICATED when identity is required and none (or an unknown one) is given."""
        if not self.required:
            return self._anonymous
        if credentials.authorization is not None:
            return self._by_key(credentials.authorization)
        for name in credentials.certificate_names:
            caller = self._by_name.get(_service_name(name))
            if caller is not None:
                return caller
        if credentials.certificate_names:
            raise UnauthenticatedError(
                "the client certificate names no configured service", reason=Reason.INVALID_CREDENTIALS
            )
        raise UnauthenticatedError(
            "this server requires a service key: send it as the gRPC metadata 'authorization' = 'Bearer <your key>'",
            reason=Reason.UNAUTHENTICATED,
        )

    def _by_key(self, authorization: str) -> Caller:
        if not authorization.lower().startswith(BEARER):
            raise UnauthenticatedError(
                "the 'authorization' metadata must be 'Bearer <your key>'", reason=Reason.INVALID_CREDENTIALS
            )
        # Looked up by digest: how long the lookup takes says nothing about the key itself.
        caller = self._by_digest.get(digest(authorization[len(BEARER) :].strip()))
        if caller is None:
            raise UnauthenticatedError("the service key is not valid", reason=Reason.INVALID_CREDENTIALS)
        return caller

    def caller_named(self, service: str) -> Caller | None:
        return self._by_name.get(service)


def _service_name(name: str) -> str:
    """A certificate names the service by its CN, or by the last path segment of a spiffe:// URI SAN."""
    if name.startswith(SPIFFE):
        return name.rstrip("/").rsplit("/", 1)[-1]
    return name

"""The transport's part of identity: read a call's credentials (metadata, verified client certificate)."""

from __future__ import annotations

import grpc

from orchestrator.policy.identity import SPIFFE, Credentials


def credentials_of(context: grpc.aio.ServicerContext) -> Credentials:
    authorization = None
    for key, value in context.invocation_metadata() or ():
        if key == "authorization" and isinstance(value, str):
            authorization = value
            break
    if authorization is not None:  # a key decides on its own: no need to read the TLS peer
        return Credentials(authorization)
    names: tuple[str, ...] = ()
    auth = context.auth_context()
    # Present only when TLS verified the certificate against server.tls.client_ca_file.
    if auth.get("transport_security_type") == [b"ssl"] and auth.get("x509_pem_cert"):
        common = [v.decode() for v in auth.get("x509_common_name", [])]
        spiffe = [v.decode() for v in auth.get("x509_subject_alternative_name", []) if v.startswith(SPIFFE.encode())]
        names = (*spiffe, *common)
    return Credentials(authorization, names)

"""`transport: native | sdk` per provider, chosen through one table."""

from __future__ import annotations

from collections.abc import Callable

from orchestrator.config import ProviderSettings
from orchestrator.providers.base import Transport, WireApi


def _native(provider: str, settings: ProviderSettings, api: WireApi, key: str | None) -> Transport:
    from orchestrator.providers.wire.http import WireClient

    return WireClient(provider, settings, api, key)


def _sdk(provider: str, settings: ProviderSettings, api: WireApi, key: str | None) -> Transport:
    from orchestrator.providers.sdk import SdkTransport  # imports the vendor SDK: only when configured

    return SdkTransport(provider, settings, api, key)


TRANSPORTS: dict[str, Callable[[str, ProviderSettings, WireApi, str | None], Transport]] = {
    "native": _native,
    "sdk": _sdk,
}


def create_transport(provider: str, settings: ProviderSettings, api: WireApi, key: str | None) -> Transport:
    return TRANSPORTS[settings.transport](provider, settings, api, key)

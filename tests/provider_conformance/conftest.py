"""The subjects: every adapter (local for real) or only the faked ones, each through both transports."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from orchestrator.config import ProviderSettings
from orchestrator.providers.local import LocalProvider
from tests.fakes import FakeUpstream
from tests.provider_conformance.env import (
    FAKED,
    FAKED_IDS,
    Subject,
    fake_provider,
)


@pytest_asyncio.fixture(scope="module")
async def local_provider() -> AsyncIterator[LocalProvider]:
    provider = LocalProvider("local", ProviderSettings(type="local"))
    await provider.start()
    yield provider
    await provider.aclose()


@pytest_asyncio.fixture(params=[*FAKED, ("local", "")], ids=[*FAKED_IDS, "local"])
async def subject(request: pytest.FixtureRequest, local_provider: LocalProvider) -> AsyncIterator[Subject]:
    kind, transport = request.param
    if kind == "local":
        yield Subject("local", local_provider, "smollm2", None)
        return
    async with FakeUpstream(seed=7) as fake:
        provider = fake_provider(kind, fake, transport)
        yield Subject(kind, provider, f"{kind}-model", fake, transport)
        await provider.aclose()
        assert fake.server_errors == []


@pytest_asyncio.fixture(params=FAKED, ids=FAKED_IDS)
async def faked(request: pytest.FixtureRequest) -> AsyncIterator[Subject]:
    kind, transport = request.param
    async with FakeUpstream(seed=7) as fake:
        provider = fake_provider(kind, fake, transport)
        yield Subject(kind, provider, f"{kind}-model", fake, transport)
        await provider.aclose()
        assert fake.server_errors == []

"""A fresh fake per test (it must log no server errors), and an SDK client of each kind pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anthropic
import openai
import pytest_asyncio

from tests.fakes import FakeUpstream


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeUpstream]:
    async with FakeUpstream(seed=1234) as server:
        yield server
        assert server.server_errors == []


@pytest_asyncio.fixture
async def oa(fake: FakeUpstream) -> AsyncIterator[openai.AsyncOpenAI]:
    client = openai.AsyncOpenAI(base_url=f"{fake.base_url}/v1", api_key="sk-test", max_retries=0)
    yield client
    await client.close()


@pytest_asyncio.fixture
async def an(fake: FakeUpstream) -> AsyncIterator[anthropic.AsyncAnthropic]:
    client = anthropic.AsyncAnthropic(base_url=fake.base_url, api_key="ak-test", max_retries=0)
    yield client
    await client.close()

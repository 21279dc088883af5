"""Per-task cache policy: `tasks.<t>.cache` overrides the global defaults; check-config rejects bad values."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import yaml
from orchestrator_client.v1 import generation_pb2 as gen

from orchestrator.config import settings_from_mapping
from orchestrator.errors import ConfigError
from orchestrator.runtime import build_runtime
from tests.cache_env import cacheable
from tests.fakes import FakeUpstream
from tests.routing_env import routed_server

pytestmark = pytest.mark.timeout(120)
LOCAL = {"providers": {"p": {"type": "openai_compatible", "base_url": "http://127.0.0.1:9/v1"}},
         "models": [{"name": "m", "provider": "p", "context_window": 1000, "max_output_tokens": 100}]}  # fmt: skip


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeUpstream]:
    async with FakeUpstream() as upstream:
        yield upstream


def for_task(task: str, text: str, policy: int = gen.CACHE_POLICY_UNSPECIFIED) -> gen.GenerateRequest:
    request = cacheable(text, policy)
    request.task_type = task
    return request


async def test_a_tasks_policy_and_ttl_override_the_global_defaults(fake: FakeUpstream) -> None:
    tasks = {"tasks": {"cached": {"cache": {"policy": "use", "ttl_seconds": 0.3}}, "other": {}}}
    async with routed_server(fake, sections=tasks) as client:
        await client.generate(for_task("cached", "q1"))
        hit = await client.generate(for_task("cached", "q1"))
        bypassed = await client.generate(for_task("cached", "q1", gen.CACHE_POLICY_BYPASS))  # the request wins
        await client.generate(for_task("other", "q1"))
        default = await client.generate(for_task("other", "q1"))  # cache.default_policy: bypass
        await asyncio.sleep(0.6)
        expired = await client.generate(for_task("cached", "q1"))

    assert hit.cache_hit
    assert not bypassed.cache_hit and not default.cache_hit
    assert not expired.cache_hit  # the task's 0.3 s, not cache.ttl_seconds (an hour)
    assert len(fake.requests) == 5


BAD = {
    "a threshold above 1": (
        {"tasks": {"t": {"cache": {"semantic": {"enabled": True, "threshold": 1.5}}}}},
        "tasks.t.cache.semantic.threshold: Input should be less than or equal to 1",
    ),
    "an unknown policy": (
        {"tasks": {"t": {"cache": {"policy": "sometimes"}}}},
        "tasks.t.cache.policy: Input should be 'use', 'bypass' or 'refresh'",
    ),
    "a zero ttl": (
        {"tasks": {"t": {"cache": {"ttl_seconds": 0}}}},
        "tasks.t.cache.ttl_seconds: Input should be greater",
    ),
    "semantic without a cache": (
        {"cache": {"type": "none"}, "tasks": {"t": {"cache": {"semantic": {"enabled": True}}}}},
        "tasks.t.cache.semantic.enabled: needs a response cache (cache.type is none)",
    ),
    "an unknown embeddings provider": (
        {"cache": {"semantic": {"embedder": "provider", "provider": "nope", "model": "e"}}},
        "cache.semantic.provider: unknown provider 'nope'",
    ),
    "an embeddings provider without a model": (
        {"cache": {"semantic": {"embedder": "provider", "provider": "p"}}},
        "cache.semantic: embedder: provider needs `provider` and `model`",
    ),
}


@pytest.mark.parametrize("name", BAD)
def test_bad_cache_settings_name_their_path(name: str) -> None:
    raw, expected = BAD[name]
    with pytest.raises(ConfigError) as caught:
        build_runtime(settings_from_mapping({**LOCAL, **raw}, env={}))
    assert expected in str(caught.value), str(caught.value)


def test_an_embeddings_provider_must_speak_the_openai_wire() -> None:
    raw: dict[str, Any] = {
        "providers": {"a": {"type": "anthropic", "api_key": "k"}},
        "models": [{"name": "m", "provider": "a", "context_window": 1000, "max_output_tokens": 100}],
        "cache": {"semantic": {"embedder": "provider", "provider": "a", "model": "e"}},
    }
    with pytest.raises(ConfigError) as caught:
        settings_from_mapping(raw, env={})
    assert "cache.semantic.provider: 'a' is a anthropic provider" in str(caught.value)


async def test_check_config_rejects_a_bad_semantic_threshold(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({**LOCAL, **BAD["a threshold above 1"][0]}))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "orchestrator", "check-config", "--config", str(path),
        env={k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await asyncio.wait_for(process.communicate(), 60)

    assert process.returncode == 2
    assert "tasks.t.cache.semantic.threshold" in stderr.decode()

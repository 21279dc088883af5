"""Semantic cache: a paraphrase gets the cached answer (marked with its similarity), a near-miss does not, never
across services; the local embedder is the real all-MiniLM-L6-v2; the default threshold is calibrated."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import pytest_asyncio
from orchestrator_client.v1 import generation_pb2 as gen

from orchestrator.config.sections import DEFAULT_SEMANTIC_THRESHOLD
from orchestrator.domain import ChatMessage, GenerationRequest
from orchestrator.pipeline.caching import key_material
from orchestrator.pipeline.semantic import split_request
from orchestrator.policy.keys import digest
from orchestrator.providers.minilm import MiniLMEmbedder
from orchestrator.state.vectors import VectorIndex
from scripts.calibrate_semantic import load_pairs, point, similarities
from tests.cache_env import cacheable, scrape, value
from tests.fakes import FakeUpstream
from tests.redis_server import redis_url
from tests.routing_env import routed_server

pytestmark = pytest.mark.timeout(180)
REFERENCE = Path(__file__).parent / "data" / "minilm_reference.json"
KEYS = {"rd": "orc_rd-semantic-key", "qa": "orc_qa-semantic-key"}


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeUpstream]:
    async with FakeUpstream() as upstream:
        yield upstream


@pytest.fixture(scope="module")
def redis() -> Iterator[str]:
    with redis_url() as url:
        yield url


@pytest.fixture(scope="module")
def model() -> MiniLMEmbedder:
    return MiniLMEmbedder()


def semantic_task(threshold: float | None = None, **sections: Any) -> dict[str, Any]:
    task = {"cache": {"policy": "use", "semantic": {"enabled": True, "threshold": threshold}}}
    return {"tasks": {"docs": task, "plain": {"cache": {"policy": "use"}}}, **sections}


def asking(text: str, task: str = "docs") -> gen.GenerateRequest:
    request = cacheable(text, gen.CACHE_POLICY_UNSPECIFIED)  # the task's policy (use) applies
    request.task_type = task
    return request


def with_services() -> dict[str, Any]:
    services = [{"name": name, "key_sha256": digest(key)} for name, key in KEYS.items()]
    return {"auth": {"mode": "required", "services": services}}


def as_service(name: str) -> list[tuple[str, str]]:
    return [("authorization", f"Bearer {KEYS[name]}")]


def test_the_local_embedder_matches_sentence_transformers(model: MiniLMEmbedder) -> None:
    reference = json.loads(REFERENCE.read_text())
    for text, expected in zip(reference["texts"], reference["vectors"], strict=True):
        vector = model.embed(text)
        assert vector is not None
        assert np.allclose(vector, np.array(expected, dtype=np.float32), atol=1e-5)


def test_text_beyond_the_model_window_is_not_embedded(model: MiniLMEmbedder) -> None:
    assert model.embed("word " * 300) is None
    assert model.embed("word " * 100) is not None


def test_the_default_threshold_gives_under_one_percent_wrong_hits_on_the_shipped_pairs() -> None:
    pairs = load_pairs()
    calibrated = point(pairs, similarities(pairs), DEFAULT_SEMANTIC_THRESHOLD)

    assert len(pairs) >= 300 and {p.same for p in pairs} == {True, False}
    assert calibrated.wrong_hit_rate < 0.01
    assert calibrated.hit_rate > 0.10


async def test_a_paraphrase_is_answered_from_the_cache_with_its_similarity(fake: FakeUpstream) -> None:
    tag = uuid.uuid4().hex[:6]
    async with routed_server(fake, metrics_port=-1, sections=semantic_task()) as client:
        first = await client.generate(asking(f"How do I reverse a string in Python? ({tag})"))
        paraphrase = await client.generate(asking(f"how do i reverse a string using python ({tag})"))
        near_miss = await client.generate(asking(f"How do I reverse a string in Go? ({tag})"))
        metrics = await scrape(client)

    assert not first.cache_hit and first.cache_similarity == 0
    assert paraphrase.cache_hit and paraphrase.text == first.text
    assert DEFAULT_SEMANTIC_THRESHOLD <= paraphrase.cache_similarity <= 1
    assert paraphrase.usage.input_tokens == 0 and not paraphrase.attempts
    assert not near_miss.cache_hit
    assert len(fake.requests) == 2
    assert value(metrics, "llm_semantic_cache_hits_total", task_type="docs") == 1
    assert value(metrics, "llm_cache_hits_total") == 0  # counted apart from exact hits
    assert value(metrics, "orchestrator_semantic_lookup_seconds_count") >= 2


async def test_a_task_without_the_semantic_cache_only_hits_exactly(fake: FakeUpstream) -> None:
    async with routed_server(fake, sections=semantic_task()) as client:
        await client.generate(asking("Explain what a mutex is.", task="plain"))
        paraphrase = await client.generate(asking("explain what a mutex is", task="plain"))
        exact = await client.generate(asking("Explain what a mutex is.", task="plain"))

    assert not paraphrase.cache_hit
    assert exact.cache_hit and exact.cache_similarity == 0
    assert len(fake.requests) == 2


async def test_paraphrases_are_never_answered_across_services(fake: FakeUpstream) -> None:
    async with routed_server(fake, sections=semantic_task(**with_services())) as client:
        await client.generate(asking("Explain what a semaphore is."), metadata=as_service("rd"))
        other = await client.generate(asking("explain what a semaphore is"), metadata=as_service("qa"))
        same = await client.generate(asking("explain what a semaphore is"), metadata=as_service("rd"))

    assert not other.cache_hit
    assert same.cache_hit and same.cache_similarity > 0
    assert len(fake.requests) == 2


async def test_a_paraphrase_streams_the_cached_answer(fake: FakeUpstream) -> None:
    async with routed_server(fake, sections=semantic_task()) as client:
        first = await client.generate(asking("Explain what dependency injection is."))
        events = [e async for e in client.stream_generate(asking("explain what dependency injection is"))]

    assert [e.WhichOneof("event") for e in events] == ["start", "delta", "final"]
    assert events[1].delta.text == first.text
    assert events[2].final.cache_hit and events[2].final.cache_similarity > 0


async def test_replicas_share_paraphrases_through_redis(fake: FakeUpstream, redis: str) -> None:
    shared = {"cache": {"type": "redis"}, "shared_state": {"redis_url": redis, "key_prefix": f"test:{uuid.uuid4()}:"}}
    async with (
        routed_server(fake, sections=semantic_task(**shared)) as first,
        routed_server(fake, sections=semantic_task(**shared)) as second,
    ):
        answer = await first.generate(asking("What is the observer design pattern?"))
        paraphrase = await second.generate(asking("what is the observer design pattern"))

    assert paraphrase.cache_hit and paraphrase.text == answer.text and paraphrase.cache_similarity > 0
    assert len(fake.requests) == 1


async def test_a_providers_embeddings_endpoint_can_embed(fake: FakeUpstream) -> None:
    endpoint = {"cache": {"type": "memory", "semantic": {"embedder": "provider", "provider": "upstream", "model": "e"}}}
    # The fake's vectors count words: a rewording is less similar than with a sentence model.
    async with routed_server(fake, sections=semantic_task(0.5, **endpoint)) as client:
        await client.generate(asking("Reverse a string in Python."))
        paraphrase = await client.generate(asking("how do I reverse the string in python?"))

    assert paraphrase.cache_hit and paraphrase.cache_similarity > 0
    assert [r.model for r in fake.requests if r.path == "/v1/embeddings"] == ["e", "e"]


async def test_prose_beyond_the_model_window_is_never_looked_up(fake: FakeUpstream) -> None:
    long = " ".join(f"word{i}" for i in range(400))
    async with routed_server(fake, sections=semantic_task()) as client:
        await client.generate(asking(f"Summarise: {long}."))
        paraphrase = await client.generate(asking(f"summarise {long}"))

    assert not paraphrase.cache_hit
    assert len([r for r in fake.requests if r.path == "/v1/chat/completions"]) == 2


def test_identifiers_and_numbers_in_their_own_variables_must_match_exactly() -> None:
    def scope(**variables: Any) -> tuple[dict[str, Any], str]:
        request = GenerationRequest("r", "code_generation", "code_generation", variables=variables)
        return split_request(key_material(request, "1"), request)

    python, prose = scope(language="python", requirement="reverse a string", count=3)
    go, _ = scope(language="go", requirement="reverse the string", count=3)
    reworded, other_prose = scope(language="python", requirement="reverse the string", count=3)

    assert prose == "reverse a string" and other_prose == "reverse the string"
    assert python == reworded and python != go
    messages = GenerationRequest("r", messages=[ChatMessage("system", "be brief"), ChatMessage("user", "hi there")])
    material, text = split_request(key_material(messages, ""), messages)
    assert text == "hi there" and material["messages"] == [["system", "be brief"], ["user", "\u2026"]]


def test_the_vector_index_keeps_the_newest_entries_and_ranks_by_similarity() -> None:
    index = VectorIndex(max_entries=2)
    unit = np.eye(3, dtype=np.float32)
    index.insert("s", "a", unit[0], expires=float("inf"))
    index.insert("s", "b", unit[1], expires=float("inf"))
    index.insert("s", "c", (unit[0] + unit[1]) / np.sqrt(2), expires=float("inf"))
    index.insert("t", "old", unit[0], expires=0.0)  # already expired

    ranked = index.search("s", unit[1])
    assert [key for key, _, _ in ranked] == ["c"]  # "a" and "b" were the oldest: only two entries are kept
    assert index.search("t", unit[0]) == []

"""Prompt experiments: a task's template variants picked per request, recorded in the response, the log line,
the span and the metrics."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections import Counter
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from orchestrator_client import OrchestratorClient
from orchestrator_client.v1 import generation_pb2 as gen
from orchestrator_client.v1 import templates_pb2 as tpl
from orchestrator_client.v1 import templates_pb2_grpc

from orchestrator.logs import JsonFormatter
from orchestrator.telemetry.tracing import TRACING
from tests.fakes import FakeUpstream
from tests.routing_env import routed_server

pytestmark = pytest.mark.timeout(300)

VARIANTS = {
    "tasks": {"bug_fixing": {"template_variants": [{"version": "3", "weight": 0.9}, {"version": 4, "weight": 0.1}]}}
}


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeUpstream]:
    async with FakeUpstream(record=False) as upstream:
        yield upstream


@pytest_asyncio.fixture
async def client(fake: FakeUpstream) -> AsyncIterator[OrchestratorClient]:
    async with routed_server(fake, sections=VARIANTS) as client:
        stub = templates_pb2_grpc.TemplateServiceStub(client.channel)
        for version in ("3", "4"):
            template = tpl.PromptTemplate(
                template_id="triage", version=version, user_message_template=f"v{version}: {{{{ issue }}}}",
                required_variables=["issue"],
            )  # fmt: skip
            await stub.CreateTemplate(tpl.CreateTemplateRequest(template=template), timeout=30)
        yield client


def triage(request_id: str, version: str = "") -> gen.GenerateRequest:
    request = gen.GenerateRequest(
        request_id=request_id, task_type="bug_fixing", template_id="triage", template_version=version,
        selection=gen.ModelSelection(preferred_model="primary"), params=gen.GenerationParams(max_output_tokens=16),
    )  # fmt: skip
    request.variables.update({"issue": "login fails"})
    return request


async def generate_all(client: OrchestratorClient, ids: list[str], batch: int = 50) -> list[gen.GenerateResponse]:
    answers: list[gen.GenerateResponse] = []
    for start in range(0, len(ids), batch):
        answers += await asyncio.gather(*(client.generate(triage(i)) for i in ids[start : start + batch]))
    return answers


async def test_a_90_10_split_holds_within_3_points_over_2000_requests(client: OrchestratorClient) -> None:
    ids = [f"split-{n}" for n in range(2000)]

    answers = await generate_all(client, ids)

    versions = Counter(a.template_version for a in answers)
    share = versions["3"] / len(answers)
    print(f"\n90/10 split over 2,000 requests: {versions['3']} / {versions['4']} ({share:.2%} / {1 - share:.2%})")
    assert set(versions) == {"3", "4"}
    assert abs(share - 0.9) <= 0.03
    # The model saw the version the response names (the fake echoes the prompt).
    assert all(f"v{a.template_version}: login fails" in a.text for a in answers)
    registry = client.server.metrics.registry  # type: ignore[attr-defined]
    for version, count in versions.items():
        labels = {"task_type": "bug_fixing", "template_version": version, "status": "success"}
        assert registry.get_sample_value("orchestrator_variant_requests_total", labels) == count
        assert registry.get_sample_value(
            "orchestrator_variant_latency_seconds_count", {"task_type": "bug_fixing", "template_version": version}
        ) == count  # fmt: skip


async def test_the_same_request_id_gets_the_same_variant_and_a_pinned_version_wins(client: OrchestratorClient) -> None:
    ids = [f"retry-{n}" for n in range(40)]

    first = await generate_all(client, ids)
    again = await generate_all(client, ids)
    pinned = await client.generate(triage("retry-0", version="4"))

    assert [a.template_version for a in first] == [a.template_version for a in again]
    assert pinned.template_version == "4"
    other = {"task_type": "bug_fixing", "template_version": "other", "status": "success"}
    assert client.server.metrics.registry.get_sample_value("orchestrator_variant_requests_total", other) is None  # type: ignore[attr-defined]


async def test_a_conversation_keeps_its_variant_across_its_requests(client: OrchestratorClient) -> None:
    async def turns(conversation: str) -> set[str]:
        versions = set()
        for n in range(6):
            request = triage(f"{conversation}-turn-{n}")
            request.conversation_id = conversation
            versions.add((await client.generate(request)).template_version)
        return versions

    per_conversation = [await turns(f"conv-{c}") for c in range(20, 32)]

    assert all(len(versions) == 1 for versions in per_conversation)
    assert set().union(*per_conversation) == {"3", "4"}  # different conversations do get different variants


@pytest.fixture
def observed() -> Iterator[tuple[io.StringIO, InMemorySpanExporter]]:
    buffer, exporter = io.StringIO(), InMemorySpanExporter()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JsonFormatter())
    requests_log = logging.getLogger("orchestrator.requests")
    previous = requests_log.level
    requests_log.addHandler(handler)
    requests_log.setLevel(logging.INFO)
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    TRACING.use(provider)
    yield buffer, exporter
    TRACING.disable()
    requests_log.removeHandler(handler)
    requests_log.setLevel(previous)


async def test_the_pick_is_in_the_log_line_and_the_span(
    client: OrchestratorClient, observed: tuple[io.StringIO, InMemorySpanExporter]
) -> None:
    log, spans = observed

    answer = await client.generate(triage("traced-1"))

    line = next(json.loads(x) for x in log.getvalue().splitlines() if '"traced-1"' in x)
    server = next(s for s in spans.get_finished_spans() if s.name.endswith("GenerationService/Generate"))
    assert line["template_version"] == answer.template_version
    assert server.attributes["orchestrator.template.version"] == answer.template_version
    assert server.attributes["orchestrator.template.experiment"] is True

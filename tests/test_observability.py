"""Metrics over HTTP, GenAI spans with continued trace context, one log line per request, no secret leaks."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import grpc
import pytest
import pytest_asyncio
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from orchestrator_client import OrchestratorClient
from orchestrator_client.v1 import generation_pb2 as gen
from prometheus_client.parser import text_string_to_metric_families

from orchestrator.logs import JsonFormatter
from orchestrator.telemetry.tracing import TRACING
from tests.fakes import Behaviour, FakeUpstream
from tests.helpers import ErrorDetails, ServerProcess
from tests.routing_env import ask, routed_server

pytestmark = pytest.mark.timeout(60)
CANARY = "sk-canary-7f3a9c21e5d84b06"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeUpstream]:
    async with FakeUpstream() as upstream:
        yield upstream


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    TRACING.use(provider)
    yield exporter
    TRACING.disable()


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield buffer
    root.removeHandler(handler)
    root.setLevel(previous)


def scrape(port: int) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_metrics_count_requests_tokens_errors_and_grpc_codes(fake: FakeUpstream) -> None:
    fake.set_default(Behaviour(prompt_tokens=20, completion_tokens=5), model="primary")
    async with routed_server(fake, metrics_port=-1) as client:
        port = client.server.metrics_port  # type: ignore[attr-defined]
        await client.generate(ask())
        _ = [e async for e in client.stream_generate(ask())]
        fake.enqueue(Behaviour(status=500), Behaviour(status=500), Behaviour(status=500), model="primary")
        fallback = await client.generate(ask())
        fake.enqueue(Behaviour(status=400), model="primary")
        with pytest.raises(grpc.aio.AioRpcError):
            await client.generate(ask())
        samples = await asyncio.to_thread(scrape, port)

    assert fallback.model == "fallback"
    assert (
        value(samples, "llm_requests_total", task_type="none", service="anonymous", model="primary", status="success")
        == 2
    )
    assert (
        value(samples, "llm_requests_total", task_type="none", service="anonymous", model="fallback", status="success")
        == 1
    )
    assert (
        value(samples, "llm_requests_total", task_type="none", service="anonymous", model="primary", status="error")
        == 1
    )
    assert value(samples, "llm_request_latency_seconds_count", task_type="none", model="primary") == 3
    assert (
        value(
            samples, "llm_token_usage_total", task_type="none", service="anonymous", model="primary", token_type="input"
        )
        == 40
    )
    assert (
        value(
            samples,
            "llm_token_usage_total",
            task_type="none",
            service="anonymous",
            model="primary",
            token_type="output",
        )
        == 10
    )
    assert (
        value(
            samples,
            "llm_errors_total",
            task_type="none",
            service="anonymous",
            model="primary",
            error_type="UPSTREAM_UNAVAILABLE",
        )
        == 3
    )
    assert value(samples, "llm_time_to_first_token_seconds_count", task_type="none", model="primary") == 1
    assert value(samples, "llm_request_cost_dollars_total", task_type="none", service="anonymous", model="primary") > 0
    rpc = {"grpc_service": "orchestrator.v1.GenerationService", "grpc_type": "unary"}
    assert value(samples, "grpc_server_started_total", grpc_method="Generate", **rpc) == 3
    assert value(samples, "grpc_server_handled_total", grpc_method="Generate", grpc_code="OK", **rpc) == 2
    assert value(samples, "grpc_server_handled_total", grpc_method="Generate", grpc_code="INVALID_ARGUMENT", **rpc) == 1
    stream = {**rpc, "grpc_type": "server_stream", "grpc_method": "StreamGenerate"}
    assert value(samples, "grpc_server_handled_total", grpc_code="OK", **stream) == 1
    assert value(samples, "grpc_server_handling_seconds_count", grpc_method="Generate", **rpc) == 3
    assert value(samples, "llm_model_circuit_state", model="primary") == 0
    assert not any("request_id" in dict(labels) for _, labels in samples)


async def test_spans_follow_the_genai_conventions_and_continue_the_callers_trace(
    fake: FakeUpstream, spans: InMemorySpanExporter
) -> None:
    fake.enqueue(Behaviour(status=503), Behaviour(status=503), Behaviour(status=503), model="primary")
    fake.set_default(Behaviour(prompt_tokens=12, completion_tokens=4), model="fallback")

    async with routed_server(fake) as client:
        await client.generate(ask(), metadata=[("traceparent", TRACEPARENT)])

    finished: list[ReadableSpan] = list(spans.get_finished_spans())
    server = next(s for s in finished if s.name == "orchestrator.v1.GenerationService/Generate")
    attempts = [s for s in finished if s.name.startswith("chat ")]
    assert format(server.context.trace_id, "032x") == TRACE_ID
    assert server.attributes["rpc.grpc.status_code"] == "OK"
    assert server.attributes["orchestrator.routing.plan"] == ("primary", "fallback")
    assert [s.name for s in attempts] == ["chat primary"] * 3 + ["chat fallback"]
    assert all(s.parent is not None and s.parent.span_id == server.context.span_id for s in attempts)
    ok = attempts[-1].attributes
    assert ok["gen_ai.operation.name"] == "chat"
    assert ok["gen_ai.provider.name"] == "openai_compatible"
    assert ok["gen_ai.request.model"] == "fallback"
    assert (ok["gen_ai.usage.input_tokens"], ok["gen_ai.usage.output_tokens"]) == (12, 4)
    assert ok["gen_ai.response.finish_reasons"] == ("stop",)
    assert attempts[0].attributes["error.type"] == "UPSTREAM_UNAVAILABLE"
    assert "gen_ai.input.messages" not in ok  # content only when the operator opts in


async def test_streams_record_time_to_first_chunk(fake: FakeUpstream, spans: InMemorySpanExporter) -> None:
    async with routed_server(fake) as client:
        _ = [e async for e in client.stream_generate(ask())]

    attempt = next(s for s in spans.get_finished_spans() if s.name == "chat primary")
    assert attempt.attributes["gen_ai.response.time_to_first_chunk"] >= 0
    assert attempt.attributes["gen_ai.usage.output_tokens"] > 0


async def test_one_log_line_per_request(fake: FakeUpstream, log_lines: io.StringIO) -> None:
    fake.set_default(Behaviour(text=" ".join(["token"] * 40)))

    async with routed_server(fake) as client:
        _ = [e async for e in client.stream_generate(ask())]

    lines = [line for line in log_lines.getvalue().splitlines() if '"message": "generation"' in line]
    assert len(lines) == 1
    for field in ('"request_id"', '"model": "primary"', '"outcome": "success"', '"output_tokens": 40', '"cost_usd"'):
        assert field in lines[0]


async def test_canary_secrets_never_leave_the_process(
    fake: FakeUpstream, spans: InMemorySpanExporter, log_lines: io.StringIO
) -> None:
    provider = {"type": "openai", "base_url": f"{fake.base_url}/v1", "api_key": CANARY}
    fake.enqueue(Behaviour(status=400, echo_auth_in_error=True), model="primary")
    fake.set_default(Behaviour(status=401, echo_auth_in_error=True))
    errors: list[ErrorDetails] = []

    async with routed_server(fake, provider=provider, metrics_port=-1) as client:
        for _ in range(2):
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await client.generate(ask(), metadata=[("traceparent", TRACEPARENT)])
            errors.append(ErrorDetails(caught.value))
        metrics_text = await asyncio.to_thread(
            lambda: urllib.request.urlopen(f"http://127.0.0.1:{client.server.metrics_port}/metrics").read().decode()  # type: ignore[attr-defined]
        )

    assert any(CANARY in r.headers.get("authorization", "") for r in fake.requests)  # the key did go upstream
    assert "[REDACTED]" in errors[0].message  # the upstream's echo reached our error text, redacted
    seen = [log_lines.getvalue(), metrics_text]
    for error in errors:
        seen += [error.message, repr(error.metadata), repr(error.field_violations)]
    for span in spans.get_finished_spans():
        seen += [repr(dict(span.attributes or {})), span.status.description or ""]
        seen += [repr(dict(event.attributes or {})) for event in span.events]
    assert all(CANARY not in text for text in seen)
    assert all(CANARY[-12:] not in text for text in seen)


async def test_a_request_that_fails_still_books_every_paid_attempt(fake: FakeUpstream, log_lines: io.StringIO) -> None:
    schema = {"type": "object", "required": ["never"], "properties": {"never": {"const": "impossible"}}}
    fake.set_default(Behaviour(text='{"other": 1}', prompt_tokens=30, completion_tokens=7))
    request = ask()
    request.json_schema.update(schema)

    async with routed_server(fake, metrics_port=-1, schema_reasks=1) as client:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await client.generate(request)
        samples = await asyncio.to_thread(scrape, client.server.metrics_port)  # type: ignore[attr-defined]

    assert ErrorDetails(caught.value).reason == "INVALID_MODEL_OUTPUT"
    assert len(fake.requests) == 4  # primary and fallback, each asked twice
    for model in ("primary", "fallback"):
        assert (
            value(
                samples, "llm_token_usage_total", task_type="none", service="anonymous", model=model, token_type="input"
            )
            == 60
        )
        assert (
            value(
                samples,
                "llm_token_usage_total",
                task_type="none",
                service="anonymous",
                model=model,
                token_type="output",
            )
            == 14
        )
    assert value(samples, "llm_request_cost_dollars_total", task_type="none", service="anonymous", model="fallback") > 0
    line = next(line for line in log_lines.getvalue().splitlines() if '"message": "generation"' in line)
    logged = json.loads(line)
    assert (logged["attempts"], logged["input_tokens"], logged["output_tokens"]) == (4, 120, 28)
    assert logged["cost_usd"] == pytest.approx((60 * 1.0 + 60 * 2.0) / 1_000_000)  # primary $1/M, fallback $2/M


async def test_the_callers_metadata_is_logged_bounded_and_redacted(fake: FakeUpstream, log_lines: io.StringIO) -> None:
    request = ask()
    request.metadata.update({f"key{i:02d}": "v" for i in range(20)})
    request.metadata["key00"] = "x" * 1000
    request.metadata["key01"] = "Bearer abcdefghijklmnopqrstuvwxyz"

    async with routed_server(fake) as client:
        await client.generate(request)

    line = next(line for line in log_lines.getvalue().splitlines() if '"message": "generation"' in line)
    logged = json.loads(line)["metadata"]
    assert sorted(logged) == [f"key{i:02d}" for i in range(16)]  # at most 16 keys
    assert logged["key00"] == "x" * 256
    assert "abcdefghijklmnopqrstuvwxyz" not in line and "[REDACTED]" in logged["key01"]


def _fake_config(fake: FakeUpstream) -> dict:
    return {
        "providers": {"upstream": {"type": "openai_compatible", "base_url": f"{fake.base_url}/v1"}},
        "models": [{"name": "primary", "provider": "upstream", "context_window": 8000, "max_output_tokens": 64}],
    }


async def test_otel_traces_exporter_console_prints_the_spans(fake: FakeUpstream, tmp_path: Path) -> None:
    server = ServerProcess(_fake_config(fake), tmp_path, env={"OTEL_TRACES_EXPORTER": "console"})
    try:
        async with OrchestratorClient(server.target) as client:
            await client.generate(gen.GenerateRequest(messages=ask().messages), timeout=30)
    finally:
        assert server.stop() == 0
    printed = server.stdout_text()

    assert '"name": "orchestrator.v1.GenerationService/Generate"' in printed
    assert '"name": "chat primary"' in printed


async def test_an_unknown_traces_exporter_stops_start_up(fake: FakeUpstream, tmp_path: Path) -> None:
    with pytest.raises(RuntimeError) as caught:
        ServerProcess(_fake_config(fake), tmp_path, env={"OTEL_TRACES_EXPORTER": "zipkin"})

    assert "OTEL_TRACES_EXPORTER: unsupported exporter 'zipkin' (use otlp, console or none)" in str(caught.value)

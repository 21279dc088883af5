"""The Python, TypeScript, Go and Java clients against the real server on loopback, each run as a subprocess.

Each client ships a conformance program (clients/*/conformance) that runs one scenario with the client's own helper
and prints {"ok": {...}} or {"error": {code, reason, field_violations, retry_delay_seconds}}; the fake upstream
behind the server decides what the scenario meets. The programs are built by the Makefile (`make clients`).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from functools import cache
from typing import Any

import grpc
import pytest
import pytest_asyncio
from orchestrator_client import channel_options
from orchestrator_client.v1 import generation_pb2 as gen
from orchestrator_client.v1 import generation_pb2_grpc

from orchestrator.policy.keys import digest
from tests.fakes import Behaviour, FakeUpstream
from tests.helpers import ROOT, MetadataRecorder
from tests.routing_env import routed_server

JAVA_CLASSPATH = ROOT / "build/java/classpath"
JVM_OPTIONS = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"]  # a quicker start for one-call processes
# language -> (make target that builds it, command before SCENARIO TARGET, the example's command before TARGET)
CLIENTS: dict[str, tuple[str, list[str], list[str]]] = {
    "python": ("", [sys.executable, "clients/python/conformance/check.py"], []),
    "typescript": (
        "client-typescript",
        ["node", "clients/typescript/dist/conformance/check.js"],
        ["node", "clients/typescript/dist/examples/generate.js"],
    ),
    "go": ("client-go", ["build/go/conformance"], ["build/go/generate"]),
    "java": (
        "client-java",
        ["java", *JVM_OPTIONS, "-cp", "@CLASSPATH", "dev.llm.orchestrator.conformance.Conformance"],
        ["java", *JVM_OPTIONS, "-cp", "@CLASSPATH", "dev.llm.orchestrator.example.GenerateExample"],
    ),
}
LANGUAGES = list(CLIENTS)
# grpc-go older than 1.40 (Debian's is 1.33) applies a service config's retry policy only when this is set.
CLIENT_ENV = {"GRPC_GO_RETRY": "on"}


@cache
def built(language: str) -> None:
    """Build the client once per session through its Makefile target (a no-op when up to date)."""
    if not CLIENTS[language][0]:
        return  # Python: the package is installed with the server
    result = subprocess.run(
        ["make", "--no-print-directory", "-s", CLIENTS[language][0]], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, f"building the {language} client failed:\n{result.stdout}\n{result.stderr}"


def command(language: str, prefix: list[str], *args: str) -> list[str]:
    built(language)
    classpath = JAVA_CLASSPATH.read_text().strip() if language == "java" else ""
    return [classpath if part == "@CLASSPATH" else part for part in prefix] + list(args)


async def run(argv: list[str], env: dict[str, str] | None = None) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *argv,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **CLIENT_ENV, **(env or {})},
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


async def scenario(language: str, name: str, target: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    code, stdout, stderr = await run(command(language, CLIENTS[language][1], name, target), env)
    assert code == 0, stderr
    return json.loads(stdout)


@pytest_asyncio.fixture(scope="module")
async def fake() -> AsyncIterator[FakeUpstream]:
    async with FakeUpstream() as upstream:
        yield upstream


@pytest.fixture(autouse=True)
def fresh_fake(fake: FakeUpstream) -> Iterator[None]:
    fake.reset()
    yield


def conformance_request() -> gen.GenerateRequest:
    """What the conformance programs send (clients/*/conformance)."""
    request = gen.GenerateRequest(
        template_id="code_generation",
        selection=gen.ModelSelection(preferred_model="primary"),
        params=gen.GenerationParams(max_output_tokens=64),
    )
    request.variables.update({"requirement": "reverse a string", "language": "python"})
    return request


def target_of(client: Any) -> str:
    return f"127.0.0.1:{client.server.port}"


@pytest.mark.parametrize("language", LANGUAGES)
async def test_generate_returns_the_rendered_templates_answer(language: str, fake: FakeUpstream) -> None:
    async with routed_server(fake) as client:
        result = await scenario(language, "generate", target_of(client))

    answer = result["ok"]
    assert answer["text"].startswith("Hello! You said: Please write code for the following requirement:")
    assert f"reverse a string\n\nUse {language} programming language." in answer["text"]  # variables reached it
    assert answer["model"] == "primary"
    assert answer["output_tokens"] > 0
    assert answer["finish_reason"] in ("FINISH_REASON_STOP", "STOP")
    assert fake.requests[0].model == "primary"


@pytest.mark.parametrize("language", LANGUAGES)
async def test_stream_generate_yields_start_deltas_then_the_final_event(language: str, fake: FakeUpstream) -> None:
    fake.set_default(Behaviour(text="one two three four five", chunks=5))

    async with routed_server(fake) as client:
        result = await scenario(language, "stream", target_of(client))

    stream = result["ok"]
    assert stream["events"] == ["start", "delta", "delta", "delta", "delta", "delta", "final"]
    assert stream["text"] == "one two three four five"
    assert stream["model"] == "primary"
    assert stream["output_tokens"] == 5


@pytest.mark.parametrize("language", LANGUAGES)
async def test_a_bad_request_decodes_its_reason_and_field_violations(language: str, fake: FakeUpstream) -> None:
    async with routed_server(fake) as client:
        result = await scenario(language, "invalid", target_of(client))

    assert result["error"]["code"] == "INVALID_ARGUMENT"
    assert result["error"]["reason"] == "MISSING_TEMPLATE_VARIABLES"
    assert list(result["error"]["field_violations"]) == ["variables.requirement"]
    assert result["error"]["retry_delay_seconds"] is None
    assert fake.requests == []


@pytest.mark.parametrize("language", LANGUAGES)
async def test_rate_limits_decode_their_retry_info(language: str, fake: FakeUpstream) -> None:
    fake.set_default(Behaviour(status=429, retry_after=7))

    async with routed_server(fake, max_attempts_per_model=1) as client:  # no waiting out the Retry-After
        result = await scenario(language, "rate_limited", target_of(client))

    assert result["error"]["code"] == "RESOURCE_EXHAUSTED"
    assert result["error"]["reason"] == "UPSTREAM_RATE_LIMITED"
    assert 6 <= result["error"]["retry_delay_seconds"] <= 7


@pytest.mark.parametrize("language", LANGUAGES)
async def test_unavailable_is_retried_by_the_helpers_policy(language: str, fake: FakeUpstream) -> None:
    fake.set_default(Behaviour(status=503))
    routing = {"max_attempts_per_model": 1, "breaker": {"failure_threshold": 1000}}

    async with routed_server(fake, **routing) as client:
        # One call without client retries: how many upstream requests a single server-side walk makes.
        options = channel_options([("grpc.enable_retries", 0)])
        async with grpc.aio.insecure_channel(target_of(client), options=options) as channel:
            with pytest.raises(grpc.aio.AioRpcError):
                await generation_pb2_grpc.GenerationServiceStub(channel).Generate(conformance_request(), timeout=30)
        per_call = len(fake.requests)
        fake.requests.clear()
        result = await scenario(language, "unavailable", target_of(client))

    assert result["error"]["code"] == "UNAVAILABLE"
    assert result["error"]["reason"] == "ALL_ROUTES_FAILED"
    assert per_call > 0
    assert len(fake.requests) == 3 * per_call  # maxAttempts 3


@pytest.mark.parametrize("language", LANGUAGES)
async def test_an_expired_deadline_ends_the_call(language: str, fake: FakeUpstream) -> None:
    fake.set_default(Behaviour(delay=10))  # the answer would take 10 s

    async with routed_server(fake) as client:
        result = await scenario(language, "deadline", target_of(client))  # a 500 ms deadline

    assert result["error"]["code"] == "DEADLINE_EXCEEDED"


@pytest.mark.parametrize("language", LANGUAGES)
async def test_the_api_key_is_sent_as_a_bearer_token(language: str) -> None:
    async with MetadataRecorder() as recorder:
        result = await scenario(language, "bearer", recorder.target, env={"ORCHESTRATOR_API_KEY": "sk-test-123"})

    assert result["error"]["code"] == "UNIMPLEMENTED"
    assert [seen.get("authorization") for seen in recorder.seen] == ["Bearer sk-test-123"]


@pytest.mark.parametrize("language", LANGUAGES)
async def test_the_api_key_identifies_the_service_to_a_server_that_requires_one(
    language: str, fake: FakeUpstream
) -> None:
    auth = {"mode": "required", "services": [{"name": "qa", "key_sha256": digest("orc_client-key")}]}
    async with routed_server(fake, sections={"auth": auth}) as client:
        keyed = await scenario(language, "bearer", target_of(client), env={"ORCHESTRATOR_API_KEY": "orc_client-key"})
        wrong = await scenario(language, "bearer", target_of(client), env={"ORCHESTRATOR_API_KEY": "orc_wrong"})

    assert "ok" in keyed, keyed
    assert (wrong["error"]["code"], wrong["error"]["reason"]) == ("UNAUTHENTICATED", "INVALID_CREDENTIALS")


@pytest.mark.parametrize("language", [language for language in LANGUAGES if CLIENTS[language][2]])
async def test_the_readme_example_generates_then_streams(language: str, fake: FakeUpstream) -> None:
    async with routed_server(fake) as client:
        code, stdout, stderr = await run(command(language, CLIENTS[language][2], target_of(client)))

    assert code == 0, stderr
    first, _, streamed = stdout.partition("\n")
    model, _, text = first.partition(": ")
    assert model in {"primary", "fallback", "small", "large"}  # the task type lets the router pick
    assert text == "Hello! You said: Please write code for the following requirement:"
    assert "a function that reverses a string" in streamed
    assert stdout.rstrip().endswith("tokens)")

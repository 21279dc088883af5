"""The people's command line (`orchestrator-client`, and the same subcommands of `orchestrator`), run as a
subprocess against the real server routed to the fake upstream."""

from __future__ import annotations

import asyncio
import json
import os
import pty
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from orchestrator_client import OrchestratorClient

from orchestrator.policy.keys import digest
from tests.fakes import Behaviour, FakeUpstream
from tests.helpers import ROOT, MetadataRecorder
from tests.routing_env import routed_server

CLI = str(Path(sys.executable).parent / "orchestrator-client")
NO_KEYS = {k: v for k, v in os.environ.items() if not k.startswith("ORCHESTRATOR_")}


@pytest_asyncio.fixture(scope="module")
async def fake() -> AsyncIterator[FakeUpstream]:
    async with FakeUpstream() as upstream:
        yield upstream


@pytest_asyncio.fixture
async def server(fake: FakeUpstream) -> AsyncIterator[OrchestratorClient]:
    fake.reset()
    async with routed_server(fake) as client:
        yield client


def target(client: OrchestratorClient) -> str:
    return f"127.0.0.1:{client.server.port}"  # type: ignore[attr-defined]


async def cli(*args: str, env: dict[str, str] | None = None, command: tuple[str, ...] = (CLI,)) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *command,
        *args,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**NO_KEYS, **(env or {})},
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


async def test_generate_prints_the_answer_and_a_usage_note(server: OrchestratorClient, fake: FakeUpstream) -> None:
    code, stdout, stderr = await cli(
        "generate", "--template", "code_generation", "--var", "requirement=sort a list", "--var", "language=go",
        "--model", "primary", "--max-tokens", "50", "--target", target(server),
    )  # fmt: skip

    assert code == 0, stderr
    assert stdout.startswith("Hello! You said: Please write code for the following requirement:\n\nsort a list")
    assert "Use go programming language." in stdout
    assert stderr.startswith("primary (upstream), ")
    assert fake.requests[0].body["max_tokens"] == 50


async def test_generate_reads_the_target_from_the_environment(server: OrchestratorClient) -> None:
    code, stdout, stderr = await cli("generate", "-m", "ping", env={"ORCHESTRATOR_TARGET": target(server)})

    assert code == 0, stderr
    assert stdout == "Hello! You said: ping\n"


async def test_generate_json_is_the_whole_response(server: OrchestratorClient) -> None:
    code, stdout, stderr = await cli(
        "generate", "-m", "ping", "--model", "fallback", "--json", "--target", target(server)
    )

    assert code == 0, stderr
    response = json.loads(stdout)
    assert response["text"] == "Hello! You said: ping"
    assert response["model"] == "fallback"
    assert response["usage"]["output_tokens"] == 4
    assert response["cache_hit"] is False  # zero values are printed too
    assert stderr == ""


async def test_generate_with_a_schema_prints_the_parsed_json(
    server: OrchestratorClient, fake: FakeUpstream, tmp_path: Path
) -> None:
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps({"type": "object", "required": ["ok"], "properties": {"ok": {"type": "boolean"}}}))
    fake.set_default(Behaviour(text='{"ok": true}'))
    code, stdout, stderr = await cli("generate", "-m", "answer", "--schema", str(schema), "--target", target(server))
    fake.set_default(Behaviour(text='{"ok": "yes"}'))  # valid JSON, but not what the schema asks for
    failed = await cli("generate", "-m", "answer", "--schema", str(schema), "--target", target(server))

    assert code == 0, stderr
    assert json.loads(stdout) == {"ok": True}
    assert failed[0] == 9  # FAILED_PRECONDITION: the schema reached the server
    assert "INVALID_MODEL_OUTPUT" in failed[2]


async def test_stream_prints_tokens_as_they_arrive(server: OrchestratorClient, fake: FakeUpstream) -> None:
    fake.set_default(Behaviour(text="alpha beta gamma delta", stall_after=2))  # the rest never comes
    process = await asyncio.create_subprocess_exec(
        CLI, "generate", "-m", "go", "--stream", "--target", target(server),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=NO_KEYS,
    )  # fmt: skip
    assert process.stdout is not None
    try:
        printed = b""
        while printed != b"alpha beta ":
            printed += await asyncio.wait_for(process.stdout.read(64), timeout=30)
        still_running = process.returncode is None
    finally:
        process.kill()
        await process.wait()

    assert printed == b"alpha beta "
    assert still_running  # the deltas were printed while the stream was still open


async def test_stream_json_prints_one_event_per_line(server: OrchestratorClient, fake: FakeUpstream) -> None:
    fake.set_default(Behaviour(text="one two three", chunks=3))

    code, stdout, stderr = await cli("generate", "-m", "go", "--stream", "--json", "--target", target(server))

    assert code == 0, stderr
    events = [json.loads(line) for line in stdout.splitlines()]
    assert [next(iter(event)) for event in events] == ["start", "delta", "delta", "delta", "final"]
    assert "".join(event["delta"]["text"] for event in events[1:4]) == "one two three"
    assert events[-1]["final"]["usage"]["output_tokens"] == 3


async def test_an_error_is_one_line_with_reason_and_fields_and_exits_with_the_code(server: OrchestratorClient) -> None:
    code, stdout, stderr = await cli("generate", "--template", "code_generation", "--target", target(server))

    assert code == 3  # INVALID_ARGUMENT
    assert stdout == ""
    assert stderr.count("\n") == 1
    assert stderr.startswith("error: INVALID_ARGUMENT MISSING_TEMPLATE_VARIABLES: ")
    assert stderr.rstrip().endswith("[variables.requirement: required by the template]")


async def test_an_error_with_json_is_a_json_line(server: OrchestratorClient, fake: FakeUpstream) -> None:
    fake.set_default(Behaviour(status=429, retry_after=9))

    async with routed_server(fake, max_attempts_per_model=1) as limited:
        code, _, stderr = await cli("generate", "-m", "hi", "--json", "--target", target(limited))

    assert code == 8  # RESOURCE_EXHAUSTED
    error = json.loads(stderr)["error"]
    assert (error["code"], error["reason"]) == ("RESOURCE_EXHAUSTED", "UPSTREAM_RATE_LIMITED")
    assert 8 <= error["retry_delay_seconds"] <= 9


async def test_templates_create_list_show_render_delete(server: OrchestratorClient, tmp_path: Path) -> None:
    definition = tmp_path / "greeting.yaml"
    definition.write_text(
        "template_id: cli_greeting\n"
        "system_message: You are terse.\n"
        "user_message_template: Greet {{ name }} in {{ language }}.\n"
        "required_variables: [name]\n"
        "optional_variables: {language: English}\n"
        "metadata: {description: Says hello, use_cases: [greeting]}\n"
    )
    at = ("--target", target(server))

    created = await cli("templates", "create", "-f", str(definition), *at)
    listed = await cli("templates", "list", "--use-case", "greeting", *at)
    shown = await cli("templates", "show", "cli_greeting", "--json", *at)
    rendered = await cli("templates", "render", "cli_greeting", "--var", "name=Ada", *at)
    deleted = await cli("templates", "delete", "cli_greeting", *at)
    gone = await cli("templates", "show", "cli_greeting", *at)

    assert created[0] == 0, created[2]
    assert created[1] == f"created cli_greeting version 1 (etag {json.loads(shown[1])['etag']})\n"
    assert listed[1].splitlines()[0].split() == ["TEMPLATE", "VERSION", "DESCRIPTION", "USE", "CASES", "CREATED"]
    assert listed[1].splitlines()[1].split()[:5] == ["cli_greeting", "1", "Says", "hello", "greeting"]
    assert json.loads(shown[1])["required_variables"] == ["name"]
    assert rendered[1] == "[system]\nYou are terse.\n\n[user]\nGreet Ada in English.\n\n"
    assert "tokens" in rendered[2]
    assert deleted[1] == "deleted cli_greeting version(s) 1\n"
    assert gone[0] == 5  # NOT_FOUND
    assert "TEMPLATE_NOT_FOUND" in gone[2]


async def test_models_is_a_table_and_json_for_scripts(server: OrchestratorClient) -> None:
    code, table, stderr = await cli("models", "--target", target(server))
    _, raw, _ = await cli("models", "--json", "--target", target(server))

    assert code == 0, stderr
    lines = table.splitlines()
    assert lines[0].split()[:2] == ["MODEL", "PROVIDER"]
    assert [line.split()[0] for line in lines[1:]] == ["primary", "fallback", "small", "large"]
    assert "\033[" not in table  # no colour when stdout is not a terminal
    assert [m["name"] for m in json.loads(raw)] == ["primary", "fallback", "small", "large"]
    assert json.loads(raw)[2]["context_window"] == 300


async def test_colour_only_on_a_terminal(server: OrchestratorClient) -> None:
    primary, replica = pty.openpty()
    process = await asyncio.create_subprocess_exec(
        CLI, "models", "--target", target(server), stdout=replica, stderr=asyncio.subprocess.PIPE, env=NO_KEYS
    )
    os.close(replica)
    await asyncio.wait_for(process.wait(), timeout=60)
    output = os.read(primary, 65536).decode()
    os.close(primary)

    assert process.returncode == 0
    assert "\033[1mMODEL" in output  # a bold header


async def test_the_key_is_sent_as_a_bearer_token() -> None:
    async with MetadataRecorder() as recorder:
        code, _, stderr = await cli("models", "--target", recorder.target, env={"ORCHESTRATOR_API_KEY": "sk-cli-1"})
        flag = await cli("models", "--target", recorder.target, "--key", "sk-cli-2")
        stream = await cli("generate", "-m", "hi", "--stream", "--target", recorder.target, "--key", "sk-cli-3")

    assert code == 12, stderr  # UNIMPLEMENTED: the recorder serves nothing
    assert (flag[0], stream[0]) == (12, 12)
    authorizations = [seen.get("authorization") for seen in recorder.seen]
    assert authorizations == ["Bearer sk-cli-1", "Bearer sk-cli-2", "Bearer sk-cli-3"]


async def test_the_server_entry_point_offers_the_same_commands(server: OrchestratorClient) -> None:
    code, stdout, stderr = await cli(
        "generate", "-m", "ping", "--target", target(server), command=(sys.executable, "-m", "orchestrator")
    )

    assert code == 0, stderr
    assert stdout == "Hello! You said: ping\n"


async def test_an_unreachable_server_exits_unavailable() -> None:
    code, _, stderr = await cli("models", "--target", "127.0.0.1:1", "--timeout", "5")

    assert code == 14  # UNAVAILABLE
    assert stderr.startswith("error: UNAVAILABLE: ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--var", "novalue"), "expected NAME=VALUE or NAME:=JSON"),
        (("--var", "n:={bad"), "the value after := is not JSON"),
        (("--schema", "/nonexistent/schema.json"), "/nonexistent/schema.json: No such file or directory"),
    ],
)
async def test_unusable_input_exits_2_before_any_call(args: tuple[str, ...], message: str) -> None:
    code, _, stderr = await cli("generate", "-m", "hi", *args, "--target", "127.0.0.1:1")

    assert code == 2
    assert message in stderr


async def test_usage_shows_each_budget_of_the_calling_service(fake: FakeUpstream) -> None:
    fake.reset()
    fake.set_default(Behaviour(prompt_tokens=40, completion_tokens=10))
    auth = {
        "mode": "required",
        "services": [{"name": "rd", "key_sha256": digest("orc_rd-cli"), "limits": {"tokens_per_day": 1000}}],
    }
    async with routed_server(fake, sections={"auth": auth}) as client:
        key = {"ORCHESTRATOR_API_KEY": "orc_rd-cli"}
        await cli("generate", "--target", target(client), "--message", "hello", env=key)
        await asyncio.sleep(0.2)  # the settlement runs after the answer
        code, stdout, stderr = await cli("usage", "--target", target(client), env=key)
        as_json = await cli("usage", "--json", "--target", target(client), env=key)
        other = await cli("usage", "--service", "pm", "--target", target(client), env=key)

    assert code == 0, stderr
    assert "service:rd" in stdout and "tokens_per_day" in stdout and "50" in stdout and "1,000" in stdout
    assert json.loads(as_json[1])["limits"][0]["used"] == 50
    assert other[0] == 7 and "USAGE_NOT_ALLOWED" in other[2]  # PERMISSION_DENIED is gRPC code 7

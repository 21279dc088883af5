"""The real grpcurl binary against a server process: what an operator types must work."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import ServerProcess

GRPCURL = shutil.which("grpcurl") or str(Path(sys.executable).parent / "grpcurl")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess({}, tmp_path_factory.mktemp("grpcurl"))
    yield process
    assert process.stop() == 0


def grpcurl(server: ServerProcess, *args: str, data: dict | None = None) -> subprocess.CompletedProcess[str]:
    command = [GRPCURL, "-plaintext", "-max-time", "60"]
    if data is not None:
        command += ["-d", json.dumps(data)]
    return subprocess.run([*command, server.target, *args], capture_output=True, text=True, timeout=90)


def test_list_shows_our_services_health_and_reflection(server: ServerProcess) -> None:
    result = grpcurl(server, "list")

    assert result.returncode == 0, result.stderr
    assert set(result.stdout.split()) == {
        "orchestrator.v1.GenerationService",
        "orchestrator.v1.TemplateService",
        "orchestrator.v1.UsageService",
        "orchestrator.v1.FeedbackService",
        "orchestrator.v1.ConversationService",
        "orchestrator.v1.KnowledgeService",
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
    }


def test_describe_shows_the_documented_request(server: ServerProcess) -> None:
    result = grpcurl(server, "describe", "orchestrator.v1.GenerateRequest")

    assert result.returncode == 0, result.stderr
    assert "google.protobuf.Struct variables = 5;" in result.stdout
    assert "Registered prompt template to render." in result.stdout  # proto comments travel with reflection


def test_health_check_says_serving_overall_and_per_service(server: ServerProcess) -> None:
    for service in ("", "orchestrator.v1.GenerationService", "orchestrator.v1.TemplateService"):
        result = grpcurl(server, "grpc.health.v1.Health/Check", data={"service": service})

        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout) == {"status": "SERVING"}


def test_generate_with_the_code_generation_template(server: ServerProcess) -> None:
    request = {
        "task_type": "code_generation",
        "template_id": "code_generation",
        "variables": {"requirement": "a function that adds two numbers", "language": "python"},
        "params": {"max_output_tokens": 32},
    }

    result = grpcurl(server, "orchestrator.v1.GenerationService/Generate", data=request)

    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["text"].strip()
    assert answer["model"] == "smollm2-135m-instruct"
    assert int(answer["usage"]["outputTokens"]) > 0


def test_stream_generate_streams_events(server: ServerProcess) -> None:
    request = {
        "messages": [{"role": "ROLE_USER", "content": "Name three colors."}],
        "params": {"max_output_tokens": 16},
    }

    result = grpcurl(server, "orchestrator.v1.GenerationService/StreamGenerate", data=request)

    assert result.returncode == 0, result.stderr
    decoder, text, events = json.JSONDecoder(), result.stdout.strip(), []
    while text:
        event, end = decoder.raw_decode(text)
        events.append(next(iter(event)))
        text = text[end:].strip()
    assert events[0] == "start" and events[-1] == "final"
    assert events.count("delta") >= 2


def test_errors_show_their_details(server: ServerProcess) -> None:
    result = grpcurl(server, "orchestrator.v1.GenerationService/Generate", data={"template_id": "code_generation"})

    assert result.returncode != 0
    assert "Code: InvalidArgument" in result.stderr
    assert "MISSING_TEMPLATE_VARIABLES" in result.stderr
    assert "variables.requirement" in result.stderr


def test_template_lifecycle_create_get_list_render(server: ServerProcess) -> None:
    template = {
        "template_id": "grpcurl_greeting",
        "system_message": "You are terse.",
        "user_message_template": "Greet {{ name }} in {{ language }}.",
        "required_variables": ["name"],
        "optional_variables": {"language": "English"},
        "metadata": {"use_cases": ["greeting"]},
    }

    created = grpcurl(server, "orchestrator.v1.TemplateService/CreateTemplate", data={"template": template})
    fetched = grpcurl(server, "orchestrator.v1.TemplateService/GetTemplate", data={"template_id": "grpcurl_greeting"})
    listed = grpcurl(server, "orchestrator.v1.TemplateService/ListTemplates", data={"use_case": "greeting"})
    rendered = grpcurl(
        server,
        "orchestrator.v1.TemplateService/RenderTemplate",
        data={"template_id": "grpcurl_greeting", "variables": {"name": "Ada"}},
    )

    for result in (created, fetched, listed, rendered):
        assert result.returncode == 0, result.stderr
    assert json.loads(created.stdout)["template"]["version"] == "1"
    assert json.loads(fetched.stdout)["template"]["etag"] == json.loads(created.stdout)["template"]["etag"]
    assert [t["templateId"] for t in json.loads(listed.stdout)["templates"]] == ["grpcurl_greeting"]
    messages = json.loads(rendered.stdout)["messages"]
    assert messages[-1] == {"role": "ROLE_USER", "content": "Greet Ada in English."}
    assert json.loads(rendered.stdout)["tokenCount"] > 0

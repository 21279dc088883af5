"""The client distribution stands alone: a role service installs it without the server's dependencies."""

from __future__ import annotations

import subprocess
import sys
import tomllib

from tests.helpers import ROOT

SERVER_ONLY = ("orchestrator", "pydantic", "jinja2", "jsonschema", "yaml", "llama_cpp", "grpc_health", "grpc_status")

PROBE = f"""
import importlib.abc, sys

class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {SERVER_ONLY!r}:
            raise ImportError("server-only module imported by the client: " + name)
        return None

sys.meta_path.insert(0, Refuse())
import orchestrator_client
from orchestrator_client.v1 import generation_pb2, templates_pb2
from orchestrator_client.cli import _runner, generate, models, templates  # the command line too
from orchestrator_client._errors import _message_class

client = orchestrator_client.OrchestratorClient("127.0.0.1:1")
request = generation_pb2.GenerateRequest(template_id="code_generation")
print(type(client).__name__, request.template_id, _message_class("google.rpc.ErrorInfo").DESCRIPTOR.full_name)
"""


def test_the_client_imports_without_any_server_module() -> None:
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "OrchestratorClient code_generation google.rpc.ErrorInfo"


def test_the_client_distribution_depends_only_on_grpcio_and_protobuf() -> None:
    project = tomllib.loads((ROOT / "clients/python/pyproject.toml").read_text())["project"]

    names = {dep.split(">")[0].split("=")[0].split("<")[0].strip() for dep in project["dependencies"]}
    assert names == {"grpcio", "protobuf"}


def test_the_committed_stubs_are_current() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts/gen_protos.py"), "--check"], capture_output=True, text=True, timeout=120
    )

    assert result.returncode == 0, result.stderr

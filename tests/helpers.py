"""Shared test helpers: settings, error-detail decoding, and a server in its own process."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import grpc
import yaml
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from orchestrator_client import OrchestratorClient

from orchestrator.api.server import OrchestratorServer
from orchestrator.config import Settings, settings_from_mapping

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"


def local_settings(**sections: Any) -> Settings:
    """The embedded model on a free loopback port with the shipped templates; no env vars."""
    raw: dict[str, Any] = {
        "server": {"host": "127.0.0.1", "port": 0, "metrics_port": 0, "grace_seconds": 2},
        "templates": {"directory": str(TEMPLATES), "store": {"type": "memory"}},
        "feedback": {"store": {"type": "memory"}},
    }
    for key, value in sections.items():
        raw[key] = {**raw.get(key, {}), **value} if isinstance(value, dict) else value
    return settings_from_mapping(raw, env={})


class ErrorDetails:
    """The google.rpc details of a failed call, decoded."""

    def __init__(self, error: grpc.aio.AioRpcError | grpc.RpcError) -> None:
        status = rpc_status.from_call(error)  # type: ignore[arg-type]
        assert status is not None, "the error carries no google.rpc.Status details"
        self.code = error.code()
        self.message = status.message
        self.reason = ""
        self.metadata: dict[str, str] = {}
        self.field_violations: dict[str, str] = {}
        self.quota_violations: dict[str, str] = {}
        self.retry_delay: float | None = None
        for detail in status.details:
            if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                detail.Unpack(info)
                self.reason, self.metadata = info.reason, dict(info.metadata)
            elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                bad = error_details_pb2.BadRequest()
                detail.Unpack(bad)
                self.field_violations = {v.field: v.description for v in bad.field_violations}
            elif detail.Is(error_details_pb2.QuotaFailure.DESCRIPTOR):
                quota = error_details_pb2.QuotaFailure()
                detail.Unpack(quota)
                self.quota_violations = {v.subject: v.description for v in quota.violations}
            elif detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
                retry = error_details_pb2.RetryInfo()
                detail.Unpack(retry)
                self.retry_delay = retry.retry_delay.ToTimedelta().total_seconds()


class MetadataRecorder(grpc.GenericRpcHandler):
    """A gRPC server standing in for one that checks keys: records each call's metadata, answers UNIMPLEMENTED."""

    def __init__(self) -> None:
        self.seen: list[dict[str, str]] = []
        self.server = grpc.aio.server(handlers=[self])
        self.target = f"127.0.0.1:{self.server.add_insecure_port('127.0.0.1:0')}"

    def service(self, handler_call_details: grpc.HandlerCallDetails) -> None:
        self.seen.append({key: str(value) for key, value in handler_call_details.invocation_metadata})  # type: ignore[attr-defined]
        return None

    async def __aenter__(self) -> MetadataRecorder:
        await self.server.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.server.stop(None)


class ServerProcess:
    """`python -m orchestrator serve` in a child process, on a free port."""

    def __init__(
        self,
        config: dict[str, Any],
        tmp_path: Path,
        env: dict[str, str] | None = None,
        preexec_fn: Callable[[], None] | None = None,
        stderr: int | None = None,
    ) -> None:
        """`stderr`: a file descriptor (a pty, say) to write errors and logs to instead of stderr.txt."""
        merged = {
            "server": {"host": "127.0.0.1", "port": 0},
            **config,
            "templates": {"directory": str(TEMPLATES), "store": {"type": "memory"}, **config.get("templates", {})},
            "feedback": {"store": {"type": "memory"}, **config.get("feedback", {})},
        }
        # One process unless a test asks for workers (tests/test_workers.py): the default, one per CPU, would
        # make every test's server a supervisor of as many workers as this machine has CPUs.
        merged["server"] = {
            "host": "127.0.0.1", "port": 0, "metrics_port": 0, "workers": 1, **config.get("server", {})
        }  # fmt: skip
        self.config_path = tmp_path / "orchestrator.yaml"
        self.config_path.write_text(yaml.safe_dump(merged))
        child_env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_BASE_URL"))}
        child_env.update(env or {})
        # Files, not pipes: a busy server writes a log line per request, and a pipe nobody reads would fill
        # and block it.
        self.stdout_path, self.stderr_path = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
        with self.stdout_path.open("w") as stdout, self.stderr_path.open("w") as stderr_file:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "orchestrator", "serve", "--config", str(self.config_path)],
                stdout=stdout,
                stderr=stderr_file if stderr is None else stderr,
                text=True,
                env=child_env,
                cwd=ROOT,
                preexec_fn=preexec_fn,
            )
        self.port = self._read_port()
        self.target = f"127.0.0.1:{self.port}"

    def _read_port(self, timeout: float = 60.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.search(r"listening on port (\d+)", self.stdout_text())
            if match:
                return int(match.group(1))
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early: {self.stderr_text()}")
            time.sleep(0.05)
        raise TimeoutError("server did not report its port")

    def terminate(self) -> None:
        self.process.send_signal(signal.SIGTERM)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.terminate()
            try:
                return self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.wait()

    def stdout_text(self) -> str:
        return self.stdout_path.read_text()

    def stderr_text(self) -> str:
        return self.stderr_path.read_text()


@contextlib.asynccontextmanager
async def served_in_process(
    settings: Settings, timeout: float = 30.0
) -> AsyncIterator[tuple[OrchestratorServer, OrchestratorClient]]:
    """The real gRPC server on a free loopback port in this process, and a client of it."""
    server = await OrchestratorServer.create(settings)
    await server.start()
    try:
        async with OrchestratorClient(f"127.0.0.1:{server.port}", default_timeout=timeout) as client:
            yield server, client
    finally:
        await server.shutdown()
